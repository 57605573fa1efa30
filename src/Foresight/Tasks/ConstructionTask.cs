using System.Text.Json.Nodes;

namespace Foresight.Tasks;

/// <summary>The shape a construction task's answer must draw.</summary>
public enum Shape
{
    /// <summary>A cycle through every vertex of the answer: n edges.</summary>
    Circle,

    /// <summary>A simple path through every vertex of the answer: n - 1 edges.</summary>
    Line,
}

/// <summary>
/// Circle and line construction (Nagarajan et al. 2025, exploratory creativity: build a new pattern that obeys a rule;
/// no hidden knowledge). An answer is an edge list over <see cref="Size"/> of the <see cref="Labels"/> vertex labels,
/// two tokens per edge, edges in random order and each written in either direction, that draws one circle (or one
/// line) through all its vertices: <c>v3 v7 v1 v3 v7 v5 …</c>. Two answers are the same when they have the same edge
/// set. Written left to right, an edge list is easy to start and hard to close: which vertices the shape uses, and
/// in what order it visits them, has to be settled before the first edge is written.
/// </summary>
public sealed class ConstructionTask : OpenEndedTask
{
    public const int DefaultLabels = 10, DefaultSize = 6;

    public ConstructionTask(Shape shape, int labels, int size, PrefixMode prefix, int seedLength = DefaultSeedLength, double? temperature = null)
        : base(prefix, seedLength, temperature, TokenNames(labels, size, shape), promptLength: 0)
    {
        (Shape, Labels, Size) = (shape, labels, size);
    }

    private static string[] TokenNames(int labels, int size, Shape shape)
    {
        int least = shape == Shape.Circle ? 3 : 2;
        if (size < least) throw new ConfigError("task.size", $"of a {Json.EnumName(shape)} must be at least {least} vertices, got {size}");
        if (labels < size || labels > 1000) throw new ConfigError("task.labels", $"must be in {size}..1000 (at least the shape's task.size), got {labels}");
        return [.. Enumerable.Range(0, labels).Select(v => $"v{v}")];
    }

    public Shape Shape { get; }
    public int Labels { get; }
    public int Size { get; }
    public int EdgeCount => Shape == Shape.Circle ? Size : Size - 1;

    public override string Name => Json.EnumName(Shape);
    public override string Description => $"{Name} construction ({Size} of {Labels} vertices, {Json.EnumName(Prefix)} prefix)";
    public override int TargetLength => 2 * EdgeCount;
    public override double FirstDecisionChance => 1;

    public int VertexToken(int vertex) => Own(vertex);

    protected override (int[] Prompt, int[] Answer) DrawTrainingExample(SeededRandom random) => ([], DrawAnswer(random));
    protected override (int[] Prompt, int[] Answer) DrawPrompt(SeededRandom random) => ([], DrawAnswer(random));

    /// <summary>A uniform shape: <see cref="Size"/> distinct labels in a random visiting order, its edges shuffled and each turned at random.</summary>
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
            if (random.Next(2) == 1) (a, b) = (b, a);
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

    protected override IEnumerable<(string Key, JsonNode Value)> OwnParameters() => [("labels", Labels), ("size", Size)];
}
