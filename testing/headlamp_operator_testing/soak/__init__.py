"""The fault soak (``make soak``): about 200 resources under random faults, then every one must converge.

One module per job: :mod:`.world` (both emulators and the operator as its own process), :mod:`.workload`
(the resources and what people do to them), :mod:`.faults` (the seeded fault schedule and the restore),
:mod:`.expectations` (each resource's expected end state and the invariants), :mod:`.cli` (the report).
"""
