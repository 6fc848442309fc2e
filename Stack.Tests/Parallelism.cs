// Two NUnit workers, for the fixtures marked [Parallelizable] only: every other fixture still runs alone, as before (NUnit
// runs non-parallel work in a shift of its own, never beside a parallel fixture). Marked: the soak, which mostly waits
// on its own namespaces and its own stack process, and in-memory virtual-time fixtures (Scaling, RackFigures,
// TcpSimulation, CaptureAgreement) that share no mutable state and assert nothing on wall time or on the process's
// heap. A namespace-based interop fixture is not marked unless it, like the soak, shares nothing with the host's root
// namespace and nothing it asserts depends on the machine's load. Measured: docs/benchmarks.md, session 13.
[assembly: LevelOfParallelism(2)]
