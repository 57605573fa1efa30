using Foresight.Tasks;

namespace Foresight.Evaluation;

/// <summary>
/// Nagarajan et al.'s algorithmic creativity of <see cref="Samples"/> generated answers, and its three parts, each a
/// fraction of the answers generated. <see cref="Temperature"/> and <see cref="Prefix"/> say how they were drawn.
/// The fields after <see cref="Prefix"/> came later: null in runs scored before they were.
/// </summary>
/// <param name="Creativity">Distinct answers that are coherent and not in the training set, over all answers generated.</param>
/// <param name="Coherence">Answers that obey the task's rules.</param>
/// <param name="Uniqueness">Distinct answers (coherent or not).</param>
/// <param name="Originality">Answers not in the training set.</param>
/// <param name="CoherentOriginality">Of the coherent answers, the share not in the training set: beside <paramref name="BaseRate"/>, whether a model repeats its training answers more than chance.</param>
/// <param name="BaseRate">The share of all the task's coherent answers that are in the training set: the share of a uniform sampler's coherent answers that would be.</param>
/// <param name="Ceiling">The most any sampler could score: the coherent answers not in training, over the answers generated (at most 1).</param>
/// <param name="DataCreativity">What answers drawn as the training answers are (a model that learned the training distribution exactly) score, with as many answers.</param>
/// <param name="PaperCreativity">Nagarajan et al.'s <c>test_creativity_score</c>: distinct answer strings that are coherent and not seen (by the task's <see cref="IOpenEndedTask.SeenKey"/>), over the answers generated.</param>
/// <param name="PaperDiversity">Their <c>test_diversity_score</c>: distinct coherent answer strings, seen or not, over the answers generated.</param>
/// <param name="PaperSeen">Their <c>test_seen_score</c>: the share of answers seen in training by their key.</param>
/// <param name="DataPaperCreativity"><paramref name="DataCreativity"/> by their metric.</param>
public sealed record CreativityMetrics(int Samples, double Creativity, double Coherence, double Uniqueness, double Originality, double Temperature, string Prefix,
    double? CoherentOriginality = null, double? BaseRate = null, double? Ceiling = null, double? DataCreativity = null,
    double? PaperCreativity = null, double? PaperDiversity = null, double? PaperSeen = null, double? DataPaperCreativity = null)
{
    /// <summary>How the answers were drawn, for tables: "seed prefix, greedy" or "null prefix, T = 1".</summary>
    public static string Drawing(string prefix, double temperature) =>
        temperature == 0 ? $"{prefix} prefix, greedy" : $"{prefix} prefix, T = {temperature.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>The training answers an open-ended task's generations are checked against: by the task's answer key, and by Nagarajan et al.'s.</summary>
public sealed class AnswerMemory
{
    private AnswerMemory(HashSet<string> keys, HashSet<string> seenKeys, int coherentKeys)
    {
        (Keys, SeenKeys, CoherentKeys) = (keys, seenKeys, coherentKeys);
    }

    public static readonly AnswerMemory Empty = new([], [], 0);

    /// <summary>The answers of a training set (not its side knowledge, such as a graph's edges).</summary>
    public static AnswerMemory Of(IOpenEndedTask task, IEnumerable<Example> training)
    {
        var answers = training.Where(task.IsAnswer).Select(e => e.Target).ToList();
        var keys = new HashSet<string>();
        int coherent = 0;
        foreach (var answer in answers)
            if (keys.Add(task.AnswerKey(answer)) && task.IsCoherent(answer)) coherent++;
        return new AnswerMemory(keys, [.. answers.Select(a => task.SeenKey(a))], coherent);
    }

    public IReadOnlySet<string> Keys { get; }
    public IReadOnlySet<string> SeenKeys { get; }

    /// <summary>Distinct coherent training answers.</summary>
    public int CoherentKeys { get; }
}

/// <summary>Scores generated answers of an open-ended task against the answers it was trained on, by Foresight's metric and Nagarajan et al.'s.</summary>
public sealed class CreativityScore(IOpenEndedTask task, AnswerMemory memory)
{
    /// <summary>Seeds the draws of <see cref="CreativityMetrics.DataCreativity"/>'s answers.</summary>
    private const int DataSeed = 20250421;

    private readonly HashSet<string> _distinct = [], _creative = [], _paperCreative = [], _paperDiverse = [];
    private int _samples, _coherent, _original, _coherentOriginal, _paperSeen;

    public void Add(ReadOnlySpan<int> answer)
    {
        _samples++;
        string key = task.AnswerKey(answer), written = OpenEndedTask.Written(answer);
        bool coherent = task.IsCoherent(answer), original = !memory.Keys.Contains(key), seen = memory.SeenKeys.Contains(task.SeenKey(answer));
        _distinct.Add(key);
        if (coherent) _coherent++;
        if (original) _original++;
        if (coherent && original)
        {
            _coherentOriginal++;
            _creative.Add(key);
        }
        if (seen) _paperSeen++;
        if (coherent) _paperDiverse.Add(written);
        if (coherent && !seen) _paperCreative.Add(written);
    }

    public CreativityMetrics Result() => Result(withData: true);

    private CreativityMetrics Result(bool withData)
    {
        if (_samples == 0) throw new InvalidOperationException("no answers were scored");
        var data = withData ? DataScore(task, memory, _samples) : null;
        return new CreativityMetrics(_samples, Fraction(_creative.Count), Fraction(_coherent), Fraction(_distinct.Count), Fraction(_original),
            task.Temperature, Json.EnumName(task.Prefix),
            CoherentOriginality: _coherent == 0 ? null : (double)_coherentOriginal / _coherent,
            BaseRate: memory.CoherentKeys / task.AnswerCount,
            Ceiling: Math.Min(1, (task.AnswerCount - memory.CoherentKeys) / _samples),
            DataCreativity: data?.Creativity,
            PaperCreativity: Fraction(_paperCreative.Count), PaperDiversity: Fraction(_paperDiverse.Count), PaperSeen: Fraction(_paperSeen),
            DataPaperCreativity: data?.PaperCreativity);
    }

    /// <summary>The scores of <paramref name="samples"/> answers drawn as the task draws its training answers, with a fixed seed.</summary>
    private static CreativityMetrics DataScore(IOpenEndedTask task, AnswerMemory memory, int samples)
    {
        var score = new CreativityScore(task, memory);
        var random = SeededRandom.For(DataSeed, "data-creativity");
        for (int i = 0; i < samples; i++) score.Add(task.GeneratePrompt(random).Target);
        return score.Result(withData: false);
    }

    private double Fraction(int count) => (double)count / _samples;
}
