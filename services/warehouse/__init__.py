"""The CBSS's research data warehouse on the labour market and social protection (issue #14).

Its own process (`institution/cbss-dwh`) and database. Operators build a project's quarter
(`WarehouseAdminService.BuildQuarter`): the warehouse asks the trusted third party (services/ttp)
for each source — the register's population, DIMONA's periods, the DmfA's worker quarters, each
extracted through the router and coded, never an INSZ — stores the coded records, derives each
person's socio-economic position on the quarter's last day, and publishes tables of employment
and pay with disclosure control (threshold, p % rule, complementary suppression audited by linear
programming). Any party reads the standard tables; research centres export their projects' data
(CSV or Parquet, with a data dictionary), each export authorised and logged. README.md tells more.
"""
