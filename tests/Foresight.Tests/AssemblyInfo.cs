// Models draw their initial weights from libtorch's one global generator, and libtorch already uses
// both cores: tests run one at a time so a seeded run is never disturbed by another test.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
