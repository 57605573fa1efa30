namespace Foresight.Tasks;

/// <summary>Sibling discovery's options: the hidden graph's size and seed, and the prefix every open-ended task has.</summary>
public sealed record SiblingOptions : OpenEndedOptions
{
    [Option("parents in the hidden graph")]
    public int Parents { get; init; } = 5;

    [Option("children of each parent")]
    public int Children { get; init; } = 100;

    [Option("seed of the hidden graph, apart from the run's --seed", Label = "graph seed {0}")]
    public int GraphSeed { get; init; }

    public override void Validate()
    {
        OptionChecks.InRange(Parents, 1, 1000, "parents");
        OptionChecks.InRange(Children, 2, 1000, "children", " (a sibling pair needs two)");
        base.Validate();
    }
}

/// <summary>
/// Sibling discovery (Nagarajan et al. 2025, combinational creativity with the knowledge in the weights): a hidden
/// bipartite graph gives each of <see cref="Parents"/> parents <see cref="Children"/> children of its own. An answer
/// names two different children of one parent and then the parent, <c>c12 c40 P3</c>; the same pair in the other
/// order is the same answer. The graph is never shown: a model learns it from the training answers, drawn uniformly
/// (parent, then two distinct children), and is creative when it names sibling pairs it was not trained on. The
/// planned order would pick the parent first; the answer writes it last.
/// </summary>
[Task("sibling", "open-ended: name two children of one hidden parent; Nagarajan et al. 2025", Options = typeof(SiblingOptions))]
public sealed class SiblingDiscoveryTask : OpenEndedTask
{
    private readonly int[] _parentOf; // child index -> parent index
    private readonly int[][] _childrenOf;

    public SiblingDiscoveryTask(SiblingOptions options)
        : base(TaskRegistry.Validated(options), TokenNames(options.Parents, options.Children), promptLength: 0)
    {
        (Parents, Children, GraphSeed) = (options.Parents, options.Children, options.GraphSeed);
        // Which child label belongs to which parent is the hidden knowledge: a shuffle, not label order.
        var labels = Enumerable.Range(0, Parents * Children).ToArray();
        SeededRandom.For(GraphSeed, "sibling-graph").Shuffle(labels);
        _childrenOf = [.. Enumerable.Range(0, Parents).Select(p => labels[(p * Children)..((p + 1) * Children)])];
        _parentOf = new int[Parents * Children];
        for (int p = 0; p < Parents; p++)
            foreach (int c in _childrenOf[p]) _parentOf[c] = p;
    }

    public SiblingDiscoveryTask(int parents, int children, int graphSeed, PrefixMode prefix, int seedLength = DefaultSeedLength, double? temperature = null)
        : this(new SiblingOptions { Parents = parents, Children = children, GraphSeed = graphSeed, Prefix = prefix, SeedLength = seedLength, Temperature = temperature })
    {
    }

    private static string[] TokenNames(int parents, int children) =>
        [.. Enumerable.Range(0, parents * children).Select(c => $"c{c}"), .. Enumerable.Range(0, parents).Select(p => $"P{p}")];

    public int Parents { get; }
    public int Children { get; }
    public int GraphSeed { get; }

    public override string Name => "sibling";
    public override string Description => $"sibling discovery ({Parents} parents x {Children} children, {Json.EnumName(Prefix)} prefix)";
    public override int TargetLength => 3;

    /// <summary>Any child starts a coherent answer.</summary>
    public override double FirstDecisionChance => 1;

    /// <summary>Distinct answers: unordered sibling pairs.</summary>
    public long AnswerCount => (long)Parents * Children * (Children - 1) / 2;

    public int ChildToken(int child) => Own(child);
    public int ParentToken(int parent) => Own(Parents * Children + parent);
    public int ParentOf(int child) => _parentOf[child];
    public IReadOnlyList<int> ChildrenOf(int parent) => _childrenOf[parent];

    protected override (int[] Prompt, int[] Answer) DrawTrainingExample(SeededRandom random) => ([], DrawAnswer(random));
    protected override (int[] Prompt, int[] Answer) DrawPrompt(SeededRandom random) => ([], DrawAnswer(random));

    private int[] DrawAnswer(SeededRandom random)
    {
        int parent = random.Next(Parents);
        int first = random.Next(Children), second = random.Next(Children - 1);
        if (second >= first) second++;
        return [ChildToken(_childrenOf[parent][first]), ChildToken(_childrenOf[parent][second]), ParentToken(parent)];
    }

    public override bool IsCoherent(ReadOnlySpan<int> answer)
    {
        if (answer.Length != 3) return false;
        int a = Child(answer[0]), b = Child(answer[1]), parent = OwnIndex(answer[2]) - Parents * Children;
        return a >= 0 && b >= 0 && a != b && parent >= 0 && parent < Parents && _parentOf[a] == parent && _parentOf[b] == parent;
    }

    private int Child(int token) => OwnIndex(token) is var i && i >= 0 && i < Parents * Children ? i : -1;

    public override string AnswerKey(ReadOnlySpan<int> answer) =>
        answer.Length == 3 ? $"{Math.Min(answer[0], answer[1])},{Math.Max(answer[0], answer[1])},{answer[2]}" : string.Join(',', answer.ToArray());
}
