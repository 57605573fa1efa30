namespace Foresight.Tasks;

/// <summary>One training example as token ids: what the model is given, and what it must produce.</summary>
public sealed record Example(int[] Prefix, int[] Target);

/// <summary>
/// A solution a next-token learner can settle in without solving the task, and the mean per-token loss it reaches:
/// a run whose loss sits there with its hard decision at chance has found the shortcut, not run out of budget.
/// </summary>
/// <param name="Formula">How the loss is made, as a reader checks it ("ln 2 / 5").</param>
/// <param name="What">The solution, named ("the Clever-Hans solution: ...").</param>
public sealed record Shortcut(double Loss, string Formula, string What);

/// <summary>
/// A sequence task with fixed prefix and target lengths. Methods see only this interface, so a new
/// task (addition, ...) runs under every method unchanged.
/// </summary>
public interface ITask
{
    /// <summary>Short name used on the command line and in config.json ("star"); its <see cref="TaskAttribute"/>'s.</summary>
    string Name { get; }

    /// <summary>Human-readable instance, e.g. "G(2,5,50)".</summary>
    string Description { get; }

    /// <summary>The name and options the task was built from, as config.json records them.</summary>
    TaskSpec Spec { get; }

    int VocabularySize { get; }
    int PrefixLength { get; }
    int TargetLength { get; }

    /// <summary>A token that never appears in data; stands in for target inputs the model must not see.</summary>
    int FillerToken { get; }

    /// <summary>
    /// Target index of the first token the prefix does not give away (the hard decision), or -1 when its
    /// place varies with the example (<see cref="IPlanningDistanceTask.Decision"/> then says where).
    /// </summary>
    int FirstDecisionPosition { get; }

    /// <summary>What target position 0 holds, for a figure's axis ("the source"); null when the task's answers have no fixed first token.</summary>
    string? FirstTargetPosition => null;

    /// <summary>The task's known shortcut and its loss under teacher-forced next-token training, when it has one.</summary>
    Shortcut? Shortcut => null;

    /// <summary>Accuracy of a uniform guess at the first decision (1/degree for path-star).</summary>
    double FirstDecisionChance { get; }

    Example Generate(SeededRandom random);

    /// <summary>
    /// The problem <paramref name="example"/> asks, equal for two examples that ask the same question however they
    /// are written (path-star: the edge set, source and goal, the edges in any order); null when the task's prompts
    /// carry no problem of their own (an open-ended task with a constant prefix). A run's training stream skips
    /// every problem its test set asks.
    /// </summary>
    string? ProblemKey(Example example);

    /// <summary>How many distinct problems the task draws from, uniformly (may be astronomically many, or infinity).</summary>
    double ProblemCount { get; }

    /// <summary>One line of the task's text format.</summary>
    string Format(Example example);

    /// <summary>Parses one line of the task's text format; throws <see cref="FormatException"/> saying what is wrong.</summary>
    Example Parse(string line);
}
