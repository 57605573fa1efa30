namespace Foresight.Tasks;

/// <summary>How triangle discovery's hidden graph is drawn, and its training triangles with it.</summary>
public enum TriangleGraph
{
    /// <summary>Each edge present with probability edge_probability; a training triangle is a shown triangle drawn uniformly, its nodes in random order.</summary>
    Random,

    /// <summary>
    /// Nagarajan et al.'s (<c>triangle.ipynb</c>, <c>generate_graph_with_triangles</c>): every node joined to about 3
    /// others (to nodes of degree at most 3.6), then 6 triangles closed at every node; a training triangle is a node
    /// and two of its neighbours, drawn until those two are joined, and an edge a node and one of its neighbours.
    /// </summary>
    Paper,
}

/// <summary>Triangle discovery's options: the hidden graph's kind, size, density, held-out share and seed, and the prefix every open-ended task has.</summary>
public sealed record TriangleOptions : OpenEndedOptions
{
    [Option("nodes of the hidden graph (Nagarajan et al.: 999)")]
    public int Nodes { get; init; } = 40;

    [Option("probability of each edge of the hidden graph (graph random)")]
    public double EdgeProbability { get; init; } = 0.3;

    [Option("share of the graph's triangles never shown in training (Nagarajan et al.: 0)", Label = "{0} held out")]
    public double HeldOut { get; init; } = 0.5;

    [Option("seed of the hidden graph, apart from the run's --seed", Label = "graph seed {0}")]
    public int GraphSeed { get; init; }

    [Option("random (each edge with probability edge_probability) or paper (Nagarajan et al.'s: degree about 3, then 6 triangles closed at every node)", Label = "{0} graph")]
    public TriangleGraph Graph { get; init; } = TriangleGraph.Random;

    [Option("share of training examples that show an edge rather than a triangle (Nagarajan et al.: 2/3)", Label = "{0} edges")]
    public double EdgeShare { get; init; } = 0.5;

    public override void Validate()
    {
        OptionChecks.InRange(Nodes, 3, 1000, "nodes");
        if (!(EdgeProbability > 0 && EdgeProbability <= 1)) throw new ConfigError("edge_probability", $"must be in (0, 1], got {OptionSpec.Text(EdgeProbability)}");
        if (!(HeldOut >= 0 && HeldOut < 1)) throw new ConfigError("held_out", $"must be in [0, 1), got {OptionSpec.Text(HeldOut)}");
        if (!(EdgeShare >= 0 && EdgeShare < 1)) throw new ConfigError("edge_share", $"must be in [0, 1), got {OptionSpec.Text(EdgeShare)}");
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
    /// <summary>Nagarajan et al.'s graph: the degree each node is first joined up to, the degree a partner may have (1.2 x 3), and the triangles closed at each node.</summary>
    public const int PaperDegree = 3, PaperTrianglesPerNode = 6;
    public const double PaperDegreeSlack = 1.2;

    private readonly bool[,] _adjacent;
    private readonly (int A, int B)[] _edges;
    private readonly int[][] _neighbours;
    private readonly int[][] _shownTriangles;
    private readonly HashSet<string> _heldOut;

    public TriangleDiscoveryTask(TriangleOptions options)
        : base(TaskRegistry.Validated(options), TokenNames(options.Nodes), promptLength: 1)
    {
        var (nodes, edgeProbability, heldOut, graphSeed) = (options.Nodes, options.EdgeProbability, options.HeldOut, options.GraphSeed);
        (Nodes, EdgeProbability, HeldOut, GraphSeed, Graph, EdgeShare) = (nodes, edgeProbability, heldOut, graphSeed, options.Graph, options.EdgeShare);
        var random = SeededRandom.For(graphSeed, "triangle-graph");
        _adjacent = Graph == TriangleGraph.Paper ? PaperGraph(nodes, random) : RandomGraph(nodes, edgeProbability, random);
        var edges = new List<(int, int)>();
        for (int a = 0; a < nodes; a++)
            for (int b = a + 1; b < nodes; b++)
                if (_adjacent[a, b]) edges.Add((a, b));
        _edges = [.. edges];
        _neighbours = [.. Enumerable.Range(0, nodes).Select(a => Enumerable.Range(0, nodes).Where(b => _adjacent[a, b]).ToArray())];
        var triangles = new List<int[]>();
        for (int a = 0; a < nodes; a++)
            for (int b = a + 1; b < nodes; b++)
                for (int c = b + 1; c < nodes && _adjacent[a, b]; c++)
                    if (_adjacent[a, c] && _adjacent[b, c]) triangles.Add([a, b, c]);
        random.Shuffle(triangles);
        TriangleCount = triangles.Count;
        _shownTriangles = [.. triangles.Take(triangles.Count - (int)Math.Round(heldOut * triangles.Count))];
        _heldOut = [.. triangles.Skip(_shownTriangles.Length).Select(t => string.Join(',', t))];
        if (_shownTriangles.Length < 1 || _shownTriangles.Length == triangles.Count && heldOut > 0)
            throw new ConfigError("task.edge_probability", $"gives a graph with {triangles.Count} triangles on {nodes} nodes: too few to show some and hold out {heldOut:0.##} of them; raise it or task.nodes");
    }

    private static bool[,] RandomGraph(int nodes, double edgeProbability, SeededRandom random)
    {
        var adjacent = new bool[nodes, nodes];
        for (int a = 0; a < nodes; a++)
            for (int b = a + 1; b < nodes; b++)
                if (random.NextUInt64() < edgeProbability * ulong.MaxValue) adjacent[a, b] = adjacent[b, a] = true;
        return adjacent;
    }

    /// <summary>Nagarajan et al.'s construction, step for step: join each node up to degree 3, then close 6 triangles at each.</summary>
    private static bool[,] PaperGraph(int nodes, SeededRandom random)
    {
        var adjacent = new bool[nodes, nodes];
        var neighbours = Enumerable.Range(0, nodes).Select(_ => new List<int>()).ToArray();
        void Join(int a, int b)
        {
            adjacent[a, b] = adjacent[b, a] = true;
            neighbours[a].Add(b);
            neighbours[b].Add(a);
        }
        for (int v = 0; v < nodes; v++)
        {
            var pool = Enumerable.Range(0, nodes).Where(u => u != v && !adjacent[u, v] && neighbours[u].Count <= PaperDegreeSlack * PaperDegree).ToArray();
            int needed = Math.Max(0, PaperDegree - neighbours[v].Count);
            random.Shuffle(pool);
            foreach (int u in pool.Take(needed)) Join(v, u);
        }
        var closed = new int[nodes];
        for (int u = 0; u < nodes; u++)
            while (closed[u] < PaperTrianglesPerNode && neighbours[u].Count >= 2)
            {
                var (v, w) = TwoOf(neighbours[u], random);
                if (!adjacent[v, w]) Join(v, w);
                closed[u]++;
                closed[v]++;
                closed[w]++;
            }
        return adjacent;
    }

    private static (int, int) TwoOf(IReadOnlyList<int> items, SeededRandom random)
    {
        int first = random.Next(items.Count), second = random.Next(items.Count - 1);
        if (second >= first) second++;
        return (items[first], items[second]);
    }

    public TriangleDiscoveryTask(int nodes, double edgeProbability, double heldOut, int graphSeed, PrefixMode prefix, int seedLength = DefaultSeedLength, double? temperature = null)
        : this(new TriangleOptions { Nodes = nodes, EdgeProbability = edgeProbability, HeldOut = heldOut, GraphSeed = graphSeed, Prefix = prefix, SeedLength = seedLength, Temperature = temperature })
    {
    }

    private static string[] TokenNames(int nodes) => [.. Enumerable.Range(0, nodes).Select(v => $"v{v}"), "edge", "tri", "."];

    public TriangleGraph Graph { get; }
    public int Nodes { get; }
    public double EdgeProbability { get; }
    public double HeldOut { get; }
    public double EdgeShare { get; }
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
    public override string Description => Graph == TriangleGraph.Paper
        ? $"triangle discovery (Nagarajan et al.'s graph, {Nodes} nodes, {EdgeCount} edges, {TriangleCount} triangles, {Json.EnumName(Prefix)} prefix)"
        : $"triangle discovery ({Nodes} nodes, p = {EdgeProbability:0.##}, {TriangleCount} triangles, {Json.EnumName(Prefix)} prefix)";
    public override int TargetLength => 3;
    public override double FirstDecisionChance => 1;
    public override double AnswerCount => TriangleCount;

    protected override (int[] Prompt, int[] Answer) DrawTrainingExample(SeededRandom random)
    {
        if (random.Next(1_000_000) < EdgeShare * 1_000_000)
        {
            int a, b;
            if (Graph == TriangleGraph.Paper)
            {
                do a = random.Next(Nodes); while (_neighbours[a].Length == 0);
                b = _neighbours[a][random.Next(_neighbours[a].Length)];
            }
            else
            {
                (a, b) = _edges[random.Next(_edges.Length)];
                if (random.Next(2) == 1) (a, b) = (b, a);
            }
            return ([EdgeMode], [NodeToken(a), NodeToken(b), Padding]);
        }
        return DrawPrompt(random);
    }

    protected override (int[] Prompt, int[] Answer) DrawPrompt(SeededRandom random)
    {
        if (Graph == TriangleGraph.Paper) return ([TriangleMode], [.. PaperTriangle(random).Select(NodeToken)]);
        var triangle = (int[])_shownTriangles[random.Next(_shownTriangles.Length)].Clone();
        random.Shuffle(triangle);
        return ([TriangleMode], [.. triangle.Select(NodeToken)]);
    }

    /// <summary>A node and two of its neighbours, drawn again until those two are joined (and, with held_out, the triangle is a shown one).</summary>
    private int[] PaperTriangle(SeededRandom random)
    {
        while (true)
        {
            int u = random.Next(Nodes);
            if (_neighbours[u].Length < 2) continue;
            var (v, w) = TwoOf(_neighbours[u], random);
            if (!_adjacent[v, w]) continue;
            int[] sorted = [u, v, w];
            Array.Sort(sorted);
            if (_heldOut.Contains(string.Join(',', sorted))) continue;
            return [u, v, w];
        }
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
