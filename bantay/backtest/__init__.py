"""`bantay backtest`: replay the investigators' loop over past days with the daily pipeline's own code.

`bantay.jobs.replay_backtest` runs the loop; `oracle` turns a file of true outcomes into the investigators'
decisions; `measures` computes the figures from what the loop left behind; `report` draws and writes them.
"""
