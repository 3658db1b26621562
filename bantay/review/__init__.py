"""`bantay review`: the investigators' workbench, a server-rendered web app on the case store."""
