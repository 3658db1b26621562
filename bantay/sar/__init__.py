"""SAR drafts for one alerted customer: the grounds and their evidence rows (`grounds`, `evidence`), the draft
built from them (`build`, `case`), and the renderers per regulator (`fincen`, `goaml`, `nca`, `austrac`,
`fintrac`) plus the investigator's page (`html`, `narrative`) and the day's index (`batch`)."""
