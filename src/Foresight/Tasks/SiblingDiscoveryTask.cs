namespace Foresight.Tasks;

/// <summary>Whose children an answer's two children are drawn from.</summary>
public enum SiblingLayout
{
    /// <summary>One set of children per parent; an answer names two different ones, in either order.</summary>
    Shared,

    /// <summary>
    /// Two sets per parent, a first-child set and a second-child set, each of <c>children</c>: an answer names one of
    /// each, in that order (Nagarajan et al.'s data, <c>sibling.ipynb</c>: <c>&lt;b1_i&gt;&lt;b2_j&gt;&lt;a&gt;</c>).
    /// </summary>
    Split,
}

/// <summary>Sibling discovery's options: the hidden graph's size, layout and seed, and the prefix every open-ended task has.</summary>
public sealed record SiblingOptions : OpenEndedOptions
{
    [Option("parents in the hidden graph (Nagarajan et al.: 5)")]
    public int Parents { get; init; } = 5;

    [Option("children of each parent, in each set (Nagarajan et al.: 500 with layout split)")]
    public int Children { get; init; } = 100;

    [Option("seed of the hidden graph, apart from the run's --seed", Label = "graph seed {0}")]
    public int GraphSeed { get; init; }

    [Option("shared (one set of children per parent, the pair in either order) or split (a first-child and a second-child set per parent, as Nagarajan et al.'s data)", Label = "{0} children")]
    public SiblingLayout Layout { get; init; } = SiblingLayout.Shared;

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
/// planned order would pick the parent first; the answer writes it last. With <see cref="SiblingLayout.Split"/> each
/// parent has a first-child set (tokens <c>c…</c>) and a second-child set (<c>d…</c>) and an answer <c>c12 d40 P3</c>
/// takes one of each, as Nagarajan et al.'s data does (at their size, 5 parents x 500: 1.25M answers).
/// </summary>
[Task("sibling", "open-ended: name two children of one hidden parent; Nagarajan et al. 2025", Options = typeof(SiblingOptions))]
public sealed class SiblingDiscoveryTask : OpenEndedTask
{
    private readonly int[] _parentOf; // child index -> parent index; with layout split, first-set children then second-set ones
    private readonly int[][] _childrenOf, _secondChildrenOf;

    public SiblingDiscoveryTask(SiblingOptions options)
        : base(TaskRegistry.Validated(options), TokenNames(options.Parents, options.Children, options.Layout), promptLength: 0)
    {
        (Parents, Children, GraphSeed, Layout) = (options.Parents, options.Children, options.GraphSeed, options.Layout);
        int sets = Layout == SiblingLayout.Split ? 2 : 1;
        // Which child label belongs to which parent is the hidden knowledge: a shuffle, not label order.
        var random = SeededRandom.For(GraphSeed, "sibling-graph");
        _parentOf = new int[sets * Parents * Children];
        var children = new int[sets][][];
        for (int set = 0; set < sets; set++)
        {
            var labels = Enumerable.Range(set * Parents * Children, Parents * Children).ToArray();
            random.Shuffle(labels);
            children[set] = [.. Enumerable.Range(0, Parents).Select(p => labels[(p * Children)..((p + 1) * Children)])];
            for (int p = 0; p < Parents; p++)
                foreach (int c in children[set][p]) _parentOf[c] = p;
        }
        _childrenOf = children[0];
        _secondChildrenOf = children[^1];
    }

    public SiblingDiscoveryTask(int parents, int children, int graphSeed, PrefixMode prefix, int seedLength = DefaultSeedLength, double? temperature = null)
        : this(new SiblingOptions { Parents = parents, Children = children, GraphSeed = graphSeed, Prefix = prefix, SeedLength = seedLength, Temperature = temperature })
    {
    }

    private static string[] TokenNames(int parents, int children, SiblingLayout layout) =>
    [
        .. Enumerable.Range(0, parents * children).Select(c => $"c{c}"),
        .. layout == SiblingLayout.Split ? Enumerable.Range(0, parents * children).Select(c => $"d{c}") : [],
        .. Enumerable.Range(0, parents).Select(p => $"P{p}"),
    ];

    public int Parents { get; }
    public int Children { get; }
    public int GraphSeed { get; }
    public SiblingLayout Layout { get; }
    private int ChildLabels => _parentOf.Length;

    public override string Name => "sibling";
    public override string Description => Layout == SiblingLayout.Split
        ? $"sibling discovery ({Parents} parents x {Children} + {Children} children, {Json.EnumName(Prefix)} prefix)"
        : $"sibling discovery ({Parents} parents x {Children} children, {Json.EnumName(Prefix)} prefix)";
    public override int TargetLength => 3;

    /// <summary>Any child (of the first set) starts a coherent answer.</summary>
    public override double FirstDecisionChance => 1;

    /// <summary>Distinct answers: unordered sibling pairs, or with layout split one child of each set.</summary>
    public override double AnswerCount => Layout == SiblingLayout.Split ? (double)Parents * Children * Children : (double)Parents * Children * (Children - 1) / 2;

    /// <summary>A child label's token: with layout split, labels Parents x Children and above are the second set's.</summary>
    public int ChildToken(int child) => Own(child);
    public int ParentToken(int parent) => Own(ChildLabels + parent);
    public int ParentOf(int child) => _parentOf[child];
    public IReadOnlyList<int> ChildrenOf(int parent) => _childrenOf[parent];

    /// <summary>The second-child set of a parent (layout split); the same children as <see cref="ChildrenOf"/> with layout shared.</summary>
    public IReadOnlyList<int> SecondChildrenOf(int parent) => _secondChildrenOf[parent];

    protected override (int[] Prompt, int[] Answer) DrawTrainingExample(SeededRandom random) => ([], DrawAnswer(random));
    protected override (int[] Prompt, int[] Answer) DrawPrompt(SeededRandom random) => ([], DrawAnswer(random));

    private int[] DrawAnswer(SeededRandom random)
    {
        int parent = random.Next(Parents);
        if (Layout == SiblingLayout.Split)
            return [ChildToken(_childrenOf[parent][random.Next(Children)]), ChildToken(_secondChildrenOf[parent][random.Next(Children)]), ParentToken(parent)];
        int first = random.Next(Children), second = random.Next(Children - 1);
        if (second >= first) second++;
        return [ChildToken(_childrenOf[parent][first]), ChildToken(_childrenOf[parent][second]), ParentToken(parent)];
    }

    public override bool IsCoherent(ReadOnlySpan<int> answer)
    {
        if (answer.Length != 3) return false;
        int a = Child(answer[0]), b = Child(answer[1]), parent = OwnIndex(answer[2]) - ChildLabels;
        bool inSets = Layout == SiblingLayout.Split ? a >= 0 && a < Parents * Children && b >= Parents * Children : a >= 0 && b >= 0 && a != b;
        return inSets && parent >= 0 && parent < Parents && _parentOf[a] == parent && _parentOf[b] == parent;
    }

    private int Child(int token) => OwnIndex(token) is var i && i >= 0 && i < ChildLabels ? i : -1;

    /// <summary>The same pair in either order is one answer; with layout split the order is the answer's own.</summary>
    public override string AnswerKey(ReadOnlySpan<int> answer) =>
        answer.Length == 3 && Layout == SiblingLayout.Shared ? $"{Math.Min(answer[0], answer[1])},{Math.Max(answer[0], answer[1])},{answer[2]}" : Written(answer);

    /// <summary>Nagarajan et al. compare the answer string: with layout shared, a trained pair written the other way round is not seen.</summary>
    public override string SeenKey(ReadOnlySpan<int> answer) => Written(answer);
}
