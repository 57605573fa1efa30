namespace Foresight.Tasks;

/// <summary>Triangle discovery's options: the hidden graph's size, density, held-out share and seed, and the prefix every open-ended task has.</summary>
public sealed record TriangleOptions : OpenEndedOptions
{
    [Option("nodes of the hidden graph")]
    public int Nodes { get; init; } = 40;

    [Option("probability of each edge of the hidden graph")]
    public double EdgeProbability { get; init; } = 0.3;

    [Option("share of the graph's triangles never shown in training", Label = "{0} held out")]
    public double HeldOut { get; init; } = 0.5;

    [Option("seed of the hidden graph, apart from the run's --seed", Label = "graph seed {0}")]
    public int GraphSeed { get; init; }

    public override void Validate()
    {
        OptionChecks.InRange(Nodes, 3, 1000, "nodes");
        if (!(EdgeProbability > 0 && EdgeProbability <= 1)) throw new ConfigError("edge_probability", $"must be in (0, 1], got {OptionSpec.Text(EdgeProbability)}");
        if (!(HeldOut >= 0 && HeldOut < 1)) throw new ConfigError("held_out", $"must be in [0, 1), got {OptionSpec.Text(HeldOut)}");
        base.Validate();
    }
}

/// <summary>
/// Triangle discovery (Nagarajan et al. 2025, combinational creativity with the knowledge in the weights): a hidden
/// random graph on <see cref="Nodes"/> nodes, each edge present with probability <see cref="EdgeProbability"/>. The
/// training data teaches the graph by its edges (<c>edge v3 v17 .</c>, either direction) and shows triangles
/// (<c>tri v3 v17 v9</c>, any order) from a share of the graph's triangles only; the rest, <see cref="HeldOut"/> of them,
/// never appear. Asked <c>tri</c>, a model is creative when it names triangles it was not shown: three nodes that
/// are pairwise joined, which it can only know by putting three memorised edges together.
/// </summary>
[Task("triangle", "open-ended: name a triangle of a hidden graph; Nagarajan et al. 2025", Options = typeof(TriangleOptions))]
public sealed class TriangleDiscoveryTask : OpenEndedTask
{
    public const double EdgeShare = 0.5;

    private readonly bool[,] _adjacent;
    private readonly (int A, int B)[] _edges;
    private readonly int[][] _shownTriangles;

    public TriangleDiscoveryTask(TriangleOptions options)
        : base(TaskRegistry.Validated(options), TokenNames(options.Nodes), promptLength: 1)
    {
        var (nodes, edgeProbability, heldOut, graphSeed) = (options.Nodes, options.EdgeProbability, options.HeldOut, options.GraphSeed);
        (Nodes, EdgeProbability, HeldOut, GraphSeed) = (nodes, edgeProbability, heldOut, graphSeed);
        var random = SeededRandom.For(graphSeed, "triangle-graph");
        _adjacent = new bool[nodes, nodes];
        var edges = new List<(int, int)>();
        for (int a = 0; a < nodes; a++)
            for (int b = a + 1; b < nodes; b++)
                if (random.NextUInt64() < edgeProbability * ulong.MaxValue)
                {
                    _adjacent[a, b] = _adjacent[b, a] = true;
                    edges.Add((a, b));
                }
        _edges = [.. edges];
        var triangles = new List<int[]>();
        for (int a = 0; a < nodes; a++)
            for (int b = a + 1; b < nodes; b++)
                for (int c = b + 1; c < nodes && _adjacent[a, b]; c++)
                    if (_adjacent[a, c] && _adjacent[b, c]) triangles.Add([a, b, c]);
        random.Shuffle(triangles);
        TriangleCount = triangles.Count;
        _shownTriangles = [.. triangles.Take(triangles.Count - (int)Math.Round(heldOut * triangles.Count))];
        if (_shownTriangles.Length < 1 || _shownTriangles.Length == triangles.Count && heldOut > 0)
            throw new ConfigError("task.edge_probability", $"gives a graph with {triangles.Count} triangles on {nodes} nodes: too few to show some and hold out {heldOut:0.##} of them; raise it or task.nodes");
    }

    public TriangleDiscoveryTask(int nodes, double edgeProbability, double heldOut, int graphSeed, PrefixMode prefix, int seedLength = DefaultSeedLength, double? temperature = null)
        : this(new TriangleOptions { Nodes = nodes, EdgeProbability = edgeProbability, HeldOut = heldOut, GraphSeed = graphSeed, Prefix = prefix, SeedLength = seedLength, Temperature = temperature })
    {
    }

    private static string[] TokenNames(int nodes) => [.. Enumerable.Range(0, nodes).Select(v => $"v{v}"), "edge", "tri", "."];

    public int Nodes { get; }
    public double EdgeProbability { get; }
    public double HeldOut { get; }
    public int GraphSeed { get; }

    /// <summary>Triangles in the hidden graph, shown and held out.</summary>
    public int TriangleCount { get; }
    public int EdgeCount => _edges.Length;
    public IReadOnlyList<int[]> ShownTriangles => _shownTriangles;

    public int NodeToken(int node) => Own(node);
    public int EdgeMode => Own(Nodes);
    public int TriangleMode => Own(Nodes + 1);
    public int Padding => Own(Nodes + 2);
    public bool Adjacent(int a, int b) => _adjacent[a, b];

    public override string Name => "triangle";
    public override string Description => $"triangle discovery ({Nodes} nodes, p = {EdgeProbability:0.##}, {TriangleCount} triangles, {Json.EnumName(Prefix)} prefix)";
    public override int TargetLength => 3;
    public override double FirstDecisionChance => 1;

    protected override (int[] Prompt, int[] Answer) DrawTrainingExample(SeededRandom random)
    {
        if (random.Next(1_000_000) < EdgeShare * 1_000_000)
        {
            var (a, b) = _edges[random.Next(_edges.Length)];
            if (random.Next(2) == 1) (a, b) = (b, a);
            return ([EdgeMode], [NodeToken(a), NodeToken(b), Padding]);
        }
        return DrawPrompt(random);
    }

    protected override (int[] Prompt, int[] Answer) DrawPrompt(SeededRandom random)
    {
        var triangle = (int[])_shownTriangles[random.Next(_shownTriangles.Length)].Clone();
        random.Shuffle(triangle);
        return ([TriangleMode], [.. triangle.Select(NodeToken)]);
    }

    public override bool IsAnswer(Example example) => example.Prefix[^1] == TriangleMode;

    public override bool IsCoherent(ReadOnlySpan<int> answer)
    {
        if (answer.Length != 3) return false;
        int a = Node(answer[0]), b = Node(answer[1]), c = Node(answer[2]);
        return a >= 0 && b >= 0 && c >= 0 && a != b && b != c && a != c && _adjacent[a, b] && _adjacent[b, c] && _adjacent[a, c];
    }

    private int Node(int token) => OwnIndex(token) is var i && i >= 0 && i < Nodes ? i : -1;

    public override string AnswerKey(ReadOnlySpan<int> answer)
    {
        var sorted = answer.ToArray();
        Array.Sort(sorted);
        return string.Join(',', sorted);
    }
}
