namespace Foresight.Tasks;

/// <summary>
/// A task whose first decision picks one of several branches the prefix lays out (path-star: the
/// arms at the source). Probes use the branches to force a wrong decision and to label the plan.
/// </summary>
public interface IBranchingTask : ITask
{
    /// <summary>
    /// Every answer the prefix allows, one per branch, each a full target in task order; the true
    /// target is one of them. They differ from <see cref="ITask.FirstDecisionPosition"/> on.
    /// </summary>
    IReadOnlyList<int[]> Branches(Example example);
}
