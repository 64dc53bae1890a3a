"""Market intelligence: the report on public demand that SEEM acts as a clearing house for.

Pure parts (no database, no network) take notices and give figures: :mod:`.procurements`
(one count per procurement), :mod:`.figures` (each key of the JSON report), :mod:`.build`
(the whole report), :mod:`.formats` (text, HTML, CSV) and :mod:`.charts` (PNG, matplotlib
imported only when a chart is drawn). Application glue: :mod:`.source` (the database or
files), :mod:`.weekly` (the scheduled report through the message outbox) and
:mod:`.retender` (the enterprises' "coming up for re-tender" digest section).
"""
