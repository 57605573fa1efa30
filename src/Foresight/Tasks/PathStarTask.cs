using System.Globalization;
using System.Text;

namespace Foresight.Tasks;

/// <summary>Path-star's options: G(d, l, N).</summary>
public sealed record PathStarOptions : ITaskOptions
{
    [Option("arms at the source (d)")]
    public int Degree { get; init; } = 2;

    [Option("nodes on the source-to-goal path, source included (l)")]
    public int PathLength { get; init; } = 5;

    [Option("node labels are drawn from 0..N-1 (N)")]
    public int Nodes { get; init; } = 50;

    public void Validate()
    {
        if (Degree < 1) throw new ConfigError("degree", $"must be at least 1, got {Degree}");
        if (PathLength < 2) throw new ConfigError("path_length", $"must be at least 2 (source and goal), got {PathLength}");
        if (Nodes < 2) throw new ConfigError("nodes", $"must be at least 2, got {Nodes}");
        long needed = 1 + (long)Degree * (PathLength - 1);
        if (needed > Nodes)
            throw new ConfigError("nodes", $"is {Nodes}, but G({Degree},{PathLength},{Nodes}) needs 1 + {Degree}x({PathLength}-1) = {needed} distinct node labels");
    }
}

/// <summary>
/// The path-star graph G(d, l, N) of Bachmann &amp; Nagarajan (2024): a source with d arms, each arm
/// l - 1 further nodes (so a source-to-leaf path has l nodes), labels distinct and drawn from 0..N-1,
/// the goal a leaf of one arm, the edge list shuffled.
/// Line format (the reference code's): <c>a,b|c,d|.../source,goal=p1,p2,...,pl</c>.
/// Tokens: node labels 0..N-1, then '|', '=', '/', '$' as N..N+3.
/// </summary>
[Task("star", "path-star graph G(d,l,N); Bachmann & Nagarajan 2024", Options = typeof(PathStarOptions), IsDefault = true)]
public sealed class PathStarTask : IBranchingTask, IVerifiableTask
{
    public PathStarTask(PathStarOptions options)
    {
        options = TaskRegistry.Validated(options);
        (Degree, PathLength, Nodes) = (options.Degree, options.PathLength, options.Nodes);
        Spec = new TaskSpec(Name, options);
    }

    public PathStarTask(int degree, int pathLength, int nodes) : this(new PathStarOptions { Degree = degree, PathLength = pathLength, Nodes = nodes })
    {
    }

    public int Degree { get; }
    public int PathLength { get; }
    public int Nodes { get; }
    public int EdgeCount => Degree * (PathLength - 1);

    public int EdgeSeparator => Nodes;     // '|'
    public int AnswerMarker => Nodes + 1;  // '='
    public int QueryMarker => Nodes + 2;   // '/'
    public int FillerToken => Nodes + 3;   // '$'

    public string Name => "star";
    public TaskSpec Spec { get; }
    public string Description => $"G({Degree},{PathLength},{Nodes})";
    public int VocabularySize => Nodes + 4;
    public int PrefixLength => 3 * EdgeCount + 3; // pairs, separators between them, then / s g =
    public int TargetLength => PathLength;
    public int FirstDecisionPosition => 1; // the target starts with the source, which the prefix gives
    public string FirstTargetPosition => "the source";
    public double FirstDecisionChance => 1.0 / Degree;

    /// <summary>
    /// The Clever-Hans solution: given the true prefix every later node is the unique child of the previous one and the
    /// source is in the query, so only the first decision costs anything, ln d, spread over the L target tokens.
    /// </summary>
    public Shortcut Shortcut => new(Math.Log(Degree) / TargetLength, $"ln {Degree} / {TargetLength}",
        "the Clever-Hans solution (every node right but the first decision, that one a guess)");

    public Example Generate(SeededRandom random)
    {
        int[] labels = DrawDistinct(random, 1 + EdgeCount);
        int source = labels[0];
        int armLength = PathLength - 1;
        int goalArm = random.Next(Degree);

        var edges = new List<(int From, int To)>(EdgeCount);
        for (int arm = 0; arm < Degree; arm++)
        {
            int previous = source;
            for (int k = 0; k < armLength; k++)
            {
                int node = labels[1 + arm * armLength + k];
                edges.Add((previous, node));
                previous = node;
            }
        }
        random.Shuffle(edges);

        var path = new int[PathLength];
        path[0] = source;
        Array.Copy(labels, 1 + goalArm * armLength, path, 1, armLength);
        return Encode(edges, source, path[^1], path);
    }

    /// <summary>The edge set, source and goal: the edges in any order are the same graph.</summary>
    public string ProblemKey(Example example)
    {
        var edges = new (int From, int To)[EdgeCount];
        for (int i = 0; i < EdgeCount; i++) edges[i] = (example.Prefix[3 * i], example.Prefix[3 * i + 1]);
        Array.Sort(edges);
        return string.Join('|', edges.Select(e => $"{e.From},{e.To}")) + $"/{example.Prefix[PrefixLength - 3]},{example.Prefix[PrefixLength - 2]}";
    }

    /// <summary>N sources, the d(l - 1) other labels in order (arms are a set: divided by d!), d goals.</summary>
    public double ProblemCount
    {
        get
        {
            double armOrders = 1;
            for (int i = 2; i < Degree; i++) armOrders *= i; // (d - 1)! = d! / d
            return Nodes * ProblemSet.Arrangements(Nodes - 1, EdgeCount) / armOrders;
        }
    }

    public Example Encode(IReadOnlyList<(int From, int To)> edges, int source, int goal, int[] path)
    {
        var prefix = new List<int>(PrefixLength);
        for (int i = 0; i < edges.Count; i++)
        {
            if (i > 0) prefix.Add(EdgeSeparator);
            prefix.Add(edges[i].From);
            prefix.Add(edges[i].To);
        }
        prefix.AddRange([QueryMarker, source, goal, AnswerMarker]);
        return new Example(prefix.ToArray(), (int[])path.Clone());
    }

    public string Format(Example example)
    {
        var line = new StringBuilder();
        bool previousWasNode = false;
        foreach (int token in example.Prefix)
        {
            bool isNode = token < Nodes;
            if (isNode && previousWasNode) line.Append(',');
            line.Append(isNode ? token.ToString(CultureInfo.InvariantCulture) : Symbol(token));
            previousWasNode = isNode;
        }
        line.AppendJoin(',', example.Target);
        return line.ToString();
    }

    public Example Parse(string line)
    {
        string[] sides = line.Trim().Split('=');
        if (sides.Length != 2) throw new FormatException($"expected exactly one '=' between the graph and the path, found {sides.Length - 1}");
        string[] query = sides[0].Split('/');
        if (query.Length != 2) throw new FormatException($"expected exactly one '/' between the edges and 'source,goal', found {query.Length - 1}");

        string[] edgeTexts = query[0].Split('|');
        if (edgeTexts.Length != EdgeCount)
            throw new FormatException($"expected {EdgeCount} edges for {Description}, found {edgeTexts.Length}");
        var edges = new (int From, int To)[EdgeCount];
        for (int i = 0; i < EdgeCount; i++)
        {
            int[] pair = ParseNodes(edgeTexts[i], $"edge {i + 1}");
            if (pair.Length != 2) throw new FormatException($"edge {i + 1} '{edgeTexts[i]}' is not a pair 'a,b'");
            edges[i] = (pair[0], pair[1]);
        }

        int[] sourceGoal = ParseNodes(query[1], "'source,goal'");
        if (sourceGoal.Length != 2) throw new FormatException($"'{query[1]}' is not 'source,goal'");
        int[] path = ParseNodes(sides[1], "the path");
        if (path.Length != PathLength)
            throw new FormatException($"expected a path of {PathLength} nodes for {Description}, found {path.Length}");
        if (path[0] != sourceGoal[0] || path[^1] != sourceGoal[1])
            throw new FormatException($"the path runs {path[0]}..{path[^1]} but the query asks for {sourceGoal[0]}..{sourceGoal[1]}");
        var edgeSet = edges.ToHashSet();
        for (int i = 0; i + 1 < path.Length; i++)
            if (!edgeSet.Contains((path[i], path[i + 1])))
                throw new FormatException($"the path step {path[i]}->{path[i + 1]} is not an edge of the graph");
        int sourceDegree = edges.Count(e => e.From == sourceGoal[0]);
        if (sourceDegree != Degree)
            throw new FormatException($"the source {sourceGoal[0]} has {sourceDegree} outgoing edges, expected degree {Degree}");

        return Encode(edges, sourceGoal[0], sourceGoal[1], path);
    }

    /// <summary>Source + each arm, read back from the prefix's edge list; ordered by the arm's first node.</summary>
    public IReadOnlyList<int[]> Branches(Example example)
    {
        var next = new Dictionary<int, List<int>>();
        for (int i = 0; i < EdgeCount; i++)
        {
            int from = example.Prefix[3 * i], to = example.Prefix[3 * i + 1];
            if (!next.TryGetValue(from, out var children)) next[from] = children = [];
            children.Add(to);
        }
        int source = example.Prefix[PrefixLength - 3];
        return next[source].Order().Select(first =>
        {
            var branch = new int[PathLength];
            branch[0] = source;
            branch[1] = first;
            for (int k = 2; k < PathLength; k++) branch[k] = next[branch[k - 1]][0]; // arms do not branch
            return branch;
        }).ToList();
    }

    /// <summary>A path of the graph from the source to the goal: there is exactly one, the target.</summary>
    public bool Accepts(Example example, ReadOnlySpan<int> answer) =>
        answer.Length == TargetLength && !answer.Contains(IVerifiableTask.Unwritten) && Admits(example, answer);

    /// <summary>
    /// Every written token is a node, the first is the source, the last the goal, and every two written
    /// neighbours are an edge of the graph (in the path's direction).
    /// </summary>
    public bool Admits(Example example, ReadOnlySpan<int> partial)
    {
        if (partial.Length != TargetLength) return false;
        foreach (int token in partial)
            if (token != IVerifiableTask.Unwritten && (token < 0 || token >= Nodes)) return false;
        if (IsWritten(partial[0]) && partial[0] != example.Prefix[PrefixLength - 3]) return false;
        if (IsWritten(partial[^1]) && partial[^1] != example.Prefix[PrefixLength - 2]) return false;
        for (int i = 0; i + 1 < partial.Length; i++)
            if (IsWritten(partial[i]) && IsWritten(partial[i + 1]) && !HasEdge(example, partial[i], partial[i + 1])) return false;
        return true;
    }

    private static bool IsWritten(int token) => token != IVerifiableTask.Unwritten;

    private bool HasEdge(Example example, int from, int to)
    {
        for (int i = 0; i < EdgeCount; i++)
            if (example.Prefix[3 * i] == from && example.Prefix[3 * i + 1] == to) return true;
        return false;
    }

    private int[] ParseNodes(string text, string what)
    {
        string[] parts = text.Split(',');
        var nodes = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out nodes[i]))
                throw new FormatException($"{what}: '{parts[i]}' is not a node label");
            if (nodes[i] >= Nodes)
                throw new FormatException($"{what}: node {nodes[i]} is outside 0..{Nodes - 1} for {Description}");
        }
        return nodes;
    }

    private string Symbol(int token) =>
        token == EdgeSeparator ? "|" : token == AnswerMarker ? "=" : token == QueryMarker ? "/" : token == FillerToken ? "$"
        : throw new ArgumentOutOfRangeException(nameof(token), $"token {token} is outside the vocabulary of {Description}");

    private int[] DrawDistinct(SeededRandom random, int count)
    {
        // Partial Fisher-Yates over 0..N-1: the first `count` entries are a uniform draw without replacement.
        var all = new int[Nodes];
        for (int i = 0; i < Nodes; i++) all[i] = i;
        for (int i = 0; i < count; i++)
        {
            int j = i + random.Next(Nodes - i);
            (all[i], all[j]) = (all[j], all[i]);
        }
        return all[..count];
    }
}
