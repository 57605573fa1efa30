using System.Text.Json.Serialization;

namespace Foresight.Tasks;

/// <summary>The shape a construction task's answer must draw.</summary>
public enum Shape
{
    /// <summary>A cycle through every vertex of the answer: n edges.</summary>
    Circle,

    /// <summary>A simple path through every vertex of the answer: n - 1 edges.</summary>
    Line,
}

/// <summary>Circle and line construction's options: the labels to choose from, the shape's size, and the prefix every open-ended task has.</summary>
public abstract record ConstructionOptions : OpenEndedOptions
{
    [Option("vertex labels to choose from (Nagarajan et al.: 10)")]
    public int Labels { get; init; } = 10;

    [Option("vertices in the shape (Nagarajan et al.: 9 for a circle, 10 for a line, 9 edges each)")]
    public int Size { get; init; } = 6;

    [Option("write each edge in the shape's visiting order, as Nagarajan et al.'s data does, rather than turned at random", Label = "directed edges")]
    public bool Directed { get; init; }

    [JsonIgnore]
    public abstract Shape Shape { get; }

    public override void Validate()
    {
        int least = Shape == Shape.Circle ? 3 : 2;
        if (Size < least) throw new ConfigError("size", $"of a {Json.EnumName(Shape)} must be at least {least} vertices, got {Size}");
        if (Labels < Size || Labels > 1000) throw new ConfigError("labels", $"must be in {Size}..1000 (at least the shape's task.size), got {Labels}");
        base.Validate();
    }
}

public sealed record CircleOptions : ConstructionOptions
{
    public override Shape Shape => Shape.Circle;
}

public sealed record LineOptions : ConstructionOptions
{
    public override Shape Shape => Shape.Line;
}

/// <summary>
/// Circle and line construction (Nagarajan et al. 2025, exploratory creativity: build a new pattern that obeys a rule;
/// no hidden knowledge). An answer is an edge list over <see cref="Size"/> of the <see cref="Labels"/> vertex labels,
/// two tokens per edge, edges in random order and each written in either direction, that draws one circle (or one
/// line) through all its vertices: <c>v3 v7 v1 v3 v7 v5 …</c>. Two answers are the same when they have the same edge
/// set. Written left to right, an edge list is easy to start and hard to close: which vertices the shape uses, and
/// in what order it visits them, has to be settled before the first edge is written. Nagarajan et al.'s data
/// (<c>circle.ipynb</c>, <c>line.ipynb</c>) writes every edge in visiting order (<see cref="ConstructionOptions.Directed"/>)
/// and checks memory by the edge sequence with its vertices renamed by first appearance (<see cref="SeenKey"/>).
/// </summary>
[Task("circle", "open-ended: an edge list drawing one circle through some labels; Nagarajan et al. 2025", Options = typeof(CircleOptions))]
[Task("line", "open-ended: an edge list drawing one line through some labels; Nagarajan et al. 2025", Options = typeof(LineOptions))]
public sealed class ConstructionTask : OpenEndedTask
{
    public ConstructionTask(ConstructionOptions options)
        : base(TaskRegistry.Validated(options), [.. Enumerable.Range(0, options.Labels).Select(v => $"v{v}")], promptLength: 0)
    {
        (Shape, Labels, Size, Directed) = (options.Shape, options.Labels, options.Size, options.Directed);
    }

    public ConstructionTask(Shape shape, int labels, int size, PrefixMode prefix, int seedLength = DefaultSeedLength, double? temperature = null)
        : this(shape == Shape.Circle
            ? new CircleOptions { Labels = labels, Size = size, Prefix = prefix, SeedLength = seedLength, Temperature = temperature }
            : new LineOptions { Labels = labels, Size = size, Prefix = prefix, SeedLength = seedLength, Temperature = temperature })
    {
    }

    public Shape Shape { get; }
    public int Labels { get; }
    public int Size { get; }
    public bool Directed { get; }
    public int EdgeCount => Shape == Shape.Circle ? Size : Size - 1;

    /// <summary>Distinct shapes (edge sets): the ways to choose the vertices, times their visiting orders up to rotation and reflection.</summary>
    public override double AnswerCount
    {
        get
        {
            double choose = 1;
            for (int i = 0; i < Size; i++) choose = choose * (Labels - i) / (i + 1);
            double orders = 1;
            for (int i = 2; i <= Size; i++) orders *= i;
            return choose * (Shape == Shape.Circle ? orders / Size : orders) / 2;
        }
    }

    public override string Name => Json.EnumName(Shape);
    public override string Description => $"{Name} construction ({Size} of {Labels} vertices, {Json.EnumName(Prefix)} prefix)";
    public override int TargetLength => 2 * EdgeCount;
    public override double FirstDecisionChance => 1;

    public int VertexToken(int vertex) => Own(vertex);

    protected override (int[] Prompt, int[] Answer) DrawTrainingExample(SeededRandom random) => ([], DrawAnswer(random));
    protected override (int[] Prompt, int[] Answer) DrawPrompt(SeededRandom random) => ([], DrawAnswer(random));

    /// <summary>A uniform shape: <see cref="Size"/> distinct labels in a random visiting order, its edges shuffled and each turned at random (or, directed, written in visiting order).</summary>
    private int[] DrawAnswer(SeededRandom random)
    {
        var labels = Enumerable.Range(0, Labels).ToArray();
        random.Shuffle(labels);
        var order = labels[..Size];
        var edges = Enumerable.Range(0, EdgeCount).Select(i => (order[i], order[(i + 1) % Size])).ToArray();
        random.Shuffle(edges);
        var answer = new int[TargetLength];
        for (int e = 0; e < edges.Length; e++)
        {
            var (a, b) = edges[e];
            if (!Directed && random.Next(2) == 1) (a, b) = (b, a);
            (answer[2 * e], answer[2 * e + 1]) = (VertexToken(a), VertexToken(b));
        }
        return answer;
    }

    public override bool IsCoherent(ReadOnlySpan<int> answer)
    {
        if (answer.Length != TargetLength) return false;
        var degree = new Dictionary<int, int>();
        var neighbours = new Dictionary<int, List<int>>();
        var seen = new HashSet<(int, int)>();
        for (int e = 0; e < EdgeCount; e++)
        {
            int a = OwnIndex(answer[2 * e]), b = OwnIndex(answer[2 * e + 1]);
            if (a < 0 || b < 0 || a == b || !seen.Add((Math.Min(a, b), Math.Max(a, b)))) return false; // a label, no loop, no repeated edge
            foreach (var (v, w) in new[] { (a, b), (b, a) })
            {
                degree[v] = degree.GetValueOrDefault(v) + 1;
                (neighbours.TryGetValue(v, out var list) ? list : neighbours[v] = []).Add(w);
            }
        }
        if (degree.Count != Size) return false;
        int ends = degree.Values.Count(d => d == 1);
        if (degree.Values.Any(d => d > 2) || ends != (Shape == Shape.Circle ? 0 : 2)) return false;
        // Degrees alone allow two smaller circles (or a line and a circle): the shape must also be connected.
        var reached = new HashSet<int>();
        var stack = new Stack<int>([degree.Keys.First()]);
        while (stack.TryPop(out int v))
            if (reached.Add(v)) foreach (int w in neighbours[v]) stack.Push(w);
        return reached.Count == Size;
    }

    public override string AnswerKey(ReadOnlySpan<int> answer)
    {
        var edges = new List<(int, int)>();
        for (int e = 0; e + 1 < answer.Length; e += 2) edges.Add((Math.Min(answer[e], answer[e + 1]), Math.Max(answer[e], answer[e + 1])));
        edges.Sort();
        return string.Join(' ', edges.Select(e => $"{e.Item1}-{e.Item2}"));
    }

    /// <summary>
    /// Nagarajan et al.'s memory check (<c>eval_qa.py</c>, <c>canonicalize</c>): the edge sequence as written, each
    /// vertex renamed by the order of its first appearance. Two answers with the same pattern of shared vertices in the
    /// same edge order are one, whatever their labels; the same shape written in another edge order is another.
    /// </summary>
    public override string SeenKey(ReadOnlySpan<int> answer)
    {
        var renamed = new Dictionary<int, int>();
        var key = new int[answer.Length];
        for (int i = 0; i < answer.Length; i++)
            key[i] = renamed.TryGetValue(answer[i], out int name) ? name : renamed[answer[i]] = renamed.Count;
        return Written(key);
    }
}
