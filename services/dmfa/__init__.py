"""DmfA, the multifunctional quarterly declaration (ONSS): declarations and their versions,
contributions computed from tables, the workers' quarters for other institutions, the event log;
the register and DIMONA asked through the router."""
