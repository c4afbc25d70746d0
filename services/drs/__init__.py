"""DRS, the declarations of social risks (ONSS): unemployment, sickness and work-accident
declarations pre-filled from what the register, DIMONA and the DmfA know (asked through the
router), judged, and delivered as electronic attestations through the shared outbox."""
