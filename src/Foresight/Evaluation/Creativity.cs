using Foresight.Tasks;

namespace Foresight.Evaluation;

/// <summary>
/// Nagarajan et al.'s algorithmic creativity of <see cref="Samples"/> generated answers, and its three parts, each a
/// fraction of the answers generated. <see cref="Temperature"/> and <see cref="Prefix"/> say how they were drawn.
/// </summary>
/// <param name="Creativity">Distinct answers that are coherent and not in the training set, over all answers generated.</param>
/// <param name="Coherence">Answers that obey the task's rules.</param>
/// <param name="Uniqueness">Distinct answers (coherent or not).</param>
/// <param name="Originality">Answers not in the training set.</param>
public sealed record CreativityMetrics(int Samples, double Creativity, double Coherence, double Uniqueness, double Originality, double Temperature, string Prefix)
{
    /// <summary>How the answers were drawn, for tables: "seed prefix, greedy" or "null prefix, T = 1".</summary>
    public static string Drawing(string prefix, double temperature) =>
        temperature == 0 ? $"{prefix} prefix, greedy" : $"{prefix} prefix, T = {temperature.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>Scores generated answers of an open-ended task against the answers it was trained on.</summary>
public sealed class CreativityScore(IOpenEndedTask task, IReadOnlySet<string> memory)
{
    private readonly HashSet<string> _distinct = [], _creative = [];
    private int _samples, _coherent, _original;

    /// <summary>The answer keys of a training set's answers (not its side knowledge, such as a graph's edges).</summary>
    public static HashSet<string> Memory(IOpenEndedTask task, IEnumerable<Example> training) =>
        [.. training.Where(task.IsAnswer).Select(e => task.AnswerKey(e.Target))];

    public void Add(ReadOnlySpan<int> answer)
    {
        _samples++;
        string key = task.AnswerKey(answer);
        bool coherent = task.IsCoherent(answer), original = !memory.Contains(key);
        _distinct.Add(key);
        if (coherent) _coherent++;
        if (original) _original++;
        if (coherent && original) _creative.Add(key);
    }

    public CreativityMetrics Result() => _samples == 0
        ? throw new InvalidOperationException("no answers were scored")
        : new CreativityMetrics(_samples, Fraction(_creative.Count), Fraction(_coherent), Fraction(_distinct.Count), Fraction(_original),
            task.Temperature, Json.EnumName(task.Prefix));

    private double Fraction(int count) => (double)count / _samples;
}
