"""`bantay generate`: synthetic ledgers written to the input contract: a shared world (calendar, FX, shared
counterparties), customers by kind, their activity including innocent look-alikes (`lookalikes`), planted
defects for validation to quarantine, and, on request, the truth of who is who."""
