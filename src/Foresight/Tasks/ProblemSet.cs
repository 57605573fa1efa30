namespace Foresight.Tasks;

/// <summary>
/// The problems a set of examples asks, by the task's <see cref="ITask.ProblemKey"/>: what a run's training stream
/// skips so that no test problem is trained on, and what a data file's overlap with a training set is counted by.
/// </summary>
public sealed class ProblemSet
{
    /// <summary>
    /// The largest share of a task's problems a test set may ask. The training set is then drawn from the rest, whose
    /// distribution is the task's less at most this share of it (their total variation distance is the share).
    /// </summary>
    public const double MaxShareOfTask = 0.10;

    private readonly ITask _task;
    private readonly HashSet<string> _keys;

    private ProblemSet(ITask task, HashSet<string> keys) => (_task, _keys) = (task, keys);

    public static ProblemSet Of(ITask task, IEnumerable<Example> examples) =>
        new(task, [.. examples.Select(task.ProblemKey).OfType<string>()]);

    /// <summary>Distinct problems in the set.</summary>
    public int Count => _keys.Count;

    /// <summary>The share of the task's problems the set asks.</summary>
    public double ShareOfTask => Count / _task.ProblemCount;

    public bool Contains(Example example) => _task.ProblemKey(example) is { } key && _keys.Contains(key);

    /// <summary>How many of <paramref name="examples"/> ask a problem of this set.</summary>
    public int CountIn(IEnumerable<Example> examples) => examples.Count(Contains);

    /// <summary>n! / (n - k)!, as a double (infinity past its range).</summary>
    public static double Arrangements(int n, int k)
    {
        double product = 1;
        for (int i = 0; i < k; i++) product *= n - i;
        return product;
    }
}
