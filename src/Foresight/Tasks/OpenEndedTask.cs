namespace Foresight.Tasks;

/// <summary>What an open-ended task's examples start with.</summary>
public enum PrefixMode
{
    /// <summary>A fresh random seed string before every example; answers decoded greedily (Nagarajan et al.'s seed-conditioning).</summary>
    Seed,

    /// <summary>The same constant string before every example; answers drawn at a temperature.</summary>
    Null,
}

/// <summary>
/// A task with many right answers (Nagarajan, Wu, Ding & Raghunathan, ICML 2025): a model is judged by the answers it
/// generates, not by one target. An answer is coherent when it obeys the task's rules, and two answers are the same
/// when their <see cref="AnswerKey"/>s are equal (the same sibling pair written in either order, the same graph with
/// its edges in another order).
/// </summary>
public interface IOpenEndedTask : ITask
{
    PrefixMode Prefix { get; }

    /// <summary>Softmax temperature answers are drawn at when scored (0: greedy).</summary>
    double Temperature { get; }

    /// <summary>A prompt the model is asked to answer at evaluation; its target is one coherent answer (for teacher forcing).</summary>
    Example GeneratePrompt(SeededRandom random);

    bool IsCoherent(ReadOnlySpan<int> answer);

    /// <summary>The answer's identity: equal for two writings of the same answer.</summary>
    string AnswerKey(ReadOnlySpan<int> answer);

    /// <summary>
    /// The answer's identity as Nagarajan et al.'s evaluation checks it against the training answers (their
    /// <c>eval_qa.py</c>, <c>get_seen_score</c>): the answer string for sibling discovery, the node set for triangle
    /// discovery, the edge sequence with its nodes renamed by first appearance for circle and line construction.
    /// </summary>
    string SeenKey(ReadOnlySpan<int> answer);

    /// <summary>Distinct coherent answers (by <see cref="AnswerKey"/>) the task has: what a training set's share is taken of.</summary>
    double AnswerCount { get; }

    /// <summary>Whether a training example is an answer (counts as memorised), not side knowledge such as an edge of the graph.</summary>
    bool IsAnswer(Example example);
}

/// <summary>The options every open-ended task has: what its examples start with and how its answers are drawn.</summary>
public abstract record OpenEndedOptions : ITaskOptions
{
    [Option("seed (a random seed string before each example, answers decoded greedily) or null (a constant prefix, answers sampled)")]
    public PrefixMode Prefix { get; init; } = PrefixMode.Seed;

    [Option("tokens in the prefix", Label = "prefix length {0}")]
    public int SeedLength { get; init; } = OpenEndedTask.DefaultSeedLength;

    [Option("softmax temperature answers are drawn at when scored (default: 0, greedy, with prefix seed; 1 with prefix null)", Label = "T = {0}")]
    public double? Temperature { get; init; }

    [Option("symbols a seed string is written in (Nagarajan et al.'s hash strings: 36, a-z and 0-9)", Label = "{0} seed symbols")]
    public int SeedSymbols { get; init; } = OpenEndedTask.DefaultSeedSymbols;

    public virtual void Validate()
    {
        OptionChecks.InRange(SeedLength, 1, 64, "seed_length");
        OptionChecks.InRange(SeedSymbols, 2, 64, "seed_symbols");
        if (Temperature is { } t) OptionChecks.NonNegative(t, "temperature", " (0: greedy)");
    }

    public ITaskOptions Resolved() => this with { Temperature = Temperature ?? (Prefix == PrefixMode.Seed ? 0 : 1) };
}

/// <summary>
/// What the open-ended tasks share: the prefix (a seed string of <see cref="SeedLength"/> symbols, or as many null
/// tokens), the token layout ('$', '_', the seed symbols s0..s{N-1}, then the task's own tokens) and the text format
/// <c>prefix tokens = answer tokens</c>, tokens by name.
/// </summary>
public abstract class OpenEndedTask : IOpenEndedTask
{
    public const int DefaultSeedSymbols = 16;
    public const int DefaultSeedLength = 8;
    private readonly int _ownTokensStart;

    private readonly OpenEndedOptions _options;
    private readonly string[] _names;
    private readonly Dictionary<string, int> _ids;

    protected OpenEndedTask(OpenEndedOptions options, IReadOnlyList<string> ownTokens, int promptLength)
    {
        _options = options;
        Prefix = options.Prefix;
        SeedLength = options.SeedLength;
        SeedSymbols = options.SeedSymbols;
        _ownTokensStart = 2 + SeedSymbols;
        Temperature = ((OpenEndedOptions)options.Resolved()).Temperature!.Value;
        _names = ["$", "_", .. Enumerable.Range(0, SeedSymbols).Select(i => $"s{i}"), .. ownTokens];
        _ids = _names.Select((name, id) => (name, id)).ToDictionary(x => x.name, x => x.id);
        PrefixLength = SeedLength + promptLength;
    }

    public PrefixMode Prefix { get; }
    public int SeedLength { get; }
    public int SeedSymbols { get; }
    public double Temperature { get; }

    public abstract string Name { get; }
    public TaskSpec Spec => new(Name, _options);
    public abstract string Description { get; }
    public int VocabularySize => _names.Length;
    public int PrefixLength { get; }
    public abstract int TargetLength { get; }
    public int FillerToken => 0;
    public int NullToken => 1;

    /// <summary>No single decision: every answer token is a choice among many right ones.</summary>
    public int FirstDecisionPosition => 0;
    public abstract double FirstDecisionChance { get; }

    /// <summary>The id of the task's own token <paramref name="index"/> (0-based, in the order the constructor was given them).</summary>
    protected int Own(int index) => _ownTokensStart + index;

    /// <summary>The index among the task's own tokens of <paramref name="token"/>; -1 for a shared token ('$', '_', a seed symbol).</summary>
    protected int OwnIndex(int token) => token >= _ownTokensStart && token < _names.Length ? token - _ownTokensStart : -1;

    public Example Generate(SeededRandom random)
    {
        var seed = SeedString(random);
        var (prompt, answer) = DrawTrainingExample(random);
        return new Example([.. seed, .. prompt], answer);
    }

    public Example GeneratePrompt(SeededRandom random)
    {
        var seed = SeedString(random);
        var (prompt, answer) = DrawPrompt(random);
        return new Example([.. seed, .. prompt], answer);
    }

    /// <summary>
    /// With a seed prefix, the prompt: its seed string and the task's prompt tokens (a greedy model answers a seed it
    /// was trained on from memory). With the constant null prefix every prompt is the same one, so there is no problem
    /// to hold apart: a trained-on answer is what originality counts instead.
    /// </summary>
    public string? ProblemKey(Example example) => Prefix == PrefixMode.Seed ? string.Join(' ', example.Prefix) : null;

    /// <summary>The seed strings: a test prompt is one of them followed by the task's one kind of question.</summary>
    public double ProblemCount => Prefix == PrefixMode.Seed ? Math.Pow(SeedSymbols, SeedLength) : 1;

    private int[] SeedString(SeededRandom random)
    {
        var seed = new int[SeedLength];
        for (int i = 0; i < seed.Length; i++) seed[i] = Prefix == PrefixMode.Seed ? 2 + random.Next(SeedSymbols) : NullToken;
        return seed;
    }

    /// <summary>One training example after the seed: the task's prompt tokens (often none) and an answer, or side knowledge.</summary>
    protected abstract (int[] Prompt, int[] Answer) DrawTrainingExample(SeededRandom random);

    /// <summary>The prompt asked at evaluation and one coherent answer to it.</summary>
    protected abstract (int[] Prompt, int[] Answer) DrawPrompt(SeededRandom random);

    public abstract bool IsCoherent(ReadOnlySpan<int> answer);
    public abstract string AnswerKey(ReadOnlySpan<int> answer);
    public abstract double AnswerCount { get; }

    /// <summary>The answer's tokens as written: how Nagarajan et al. tell generated answers apart (uniqueness by string).</summary>
    public static string Written(ReadOnlySpan<int> answer) => string.Join(',', answer.ToArray());

    public virtual string SeenKey(ReadOnlySpan<int> answer) => AnswerKey(answer);
    public virtual bool IsAnswer(Example example) => true;

    public string Format(Example example) =>
        string.Join(' ', example.Prefix.Select(t => _names[t])) + " = " + string.Join(' ', example.Target.Select(t => _names[t]));

    public Example Parse(string line)
    {
        var parts = line.Split(" = ");
        if (parts.Length != 2) throw new FormatException($"expected 'prefix tokens = answer tokens', got '{line}'");
        int[] prefix = Tokens(parts[0]), target = Tokens(parts[1]);
        if (prefix.Length != PrefixLength) throw new FormatException($"the prefix has {prefix.Length} tokens; {Description} has {PrefixLength}");
        if (target.Length != TargetLength) throw new FormatException($"the answer has {target.Length} tokens; {Description} has {TargetLength}");
        return new Example(prefix, target);
    }

    private int[] Tokens(string text) =>
        [.. text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(name => _ids.TryGetValue(name, out int id) ? id : throw new FormatException($"unknown token '{name}'"))];

    public string TokenName(int token) => token >= 0 && token < _names.Length ? _names[token] : $"<{token}>";
}
