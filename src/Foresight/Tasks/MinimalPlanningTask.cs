using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Foresight.Tasks;

/// <summary>Minimal planning's options: the length of its two chains.</summary>
public sealed record MinimalPlanningOptions : ITaskOptions
{
    [Option("nodes per chain (k); labels are 0..2k-1")]
    public int ChainLength { get; init; } = 6;

    public void Validate() => OptionChecks.InRange(ChainLength, MinimalPlanningTask.MinChainLength, MinimalPlanningTask.MaxChainLength, "chain_length");
}

/// <summary>
/// Ye et al.'s "minimal planning" task (HKUNLP, "Beyond Autoregression", ICLR 2025): two chains of k nodes
/// that share one node, labels a shuffled permutation of 0..2k-1 (chain B's node at a random index is
/// replaced by chain A's, so 2k - 1 labels appear), the 2(k - 1) edges shuffled. Asked for the path from
/// chain A's first node to its last, a model reads the chain from the source until the shared node,
/// where it must choose between two successors: the planning distance is the number of steps from
/// there to the goal, k - 1 - (index of the shared node), and 0 when the shared node is the goal.
/// Text (their generator's, one character per token): prompt <c>a,b/c,d/...-s,g</c>, answer
/// <c>s,x/x,y/.../z,g</c>. Tokens: '0'-'9', ',', '/', '-', then '=' (ends the prompt), '.' (padding), '$'.
/// Examples have one length: the prompt is left-padded and the answer right-padded with '.', which the
/// model writes after the answer as its end of sequence. Files are their JSON lines
/// (<c>{"input": ..., "output": ..., "reversed": ...}</c>).
/// </summary>
[Task("planning", "two chains sharing a node, the path along one; Ye et al. 2025's minimal planning", Options = typeof(MinimalPlanningOptions))]
public sealed class MinimalPlanningTask : IVerifiableTask, IPlanningDistanceTask, IReversibleTask
{
    public const int MinChainLength = 3, MaxChainLength = 50; // labels up to 99: one or two characters

    private const string Symbols = "0123456789,/-=.$";

    public MinimalPlanningTask(MinimalPlanningOptions options)
    {
        ChainLength = TaskRegistry.Validated(options).ChainLength;
        Spec = new TaskSpec(Name, options);
        (PromptCharacters, AnswerCharacters) = LongestTexts(ChainLength);
    }

    public MinimalPlanningTask(int chainLength) : this(new MinimalPlanningOptions { ChainLength = chainLength })
    {
    }

    /// <summary>Nodes per chain (k); the paper's figure uses 6.</summary>
    public int ChainLength { get; }

    /// <summary>The longest prompt and answer any example can have, in characters.</summary>
    public int PromptCharacters { get; }
    public int AnswerCharacters { get; }

    public int Comma => 10;
    public int Slash => 11;
    public int Dash => 12;
    public int EndOfPrompt => 13;
    public int Padding => 14;
    public int FillerToken => 15;

    public string Name => "planning";
    public TaskSpec Spec { get; }
    public string Description => $"minimal planning (2 chains of {ChainLength})";
    public int VocabularySize => Symbols.Length;
    public int PrefixLength => PromptCharacters + 1;
    public int TargetLength => AnswerCharacters;

    /// <summary>The decision's place varies with the example (<see cref="Decision"/>): -1.</summary>
    public int FirstDecisionPosition => -1;

    /// <summary>Two successors at the shared node.</summary>
    public double FirstDecisionChance => 0.5;
    public string FirstTargetPosition => "the source's first character";

    public int MaxPlanningDistance => ChainLength - 1;

    public Example Generate(SeededRandom random)
    {
        var labels = Enumerable.Range(0, 2 * ChainLength).ToArray();
        random.Shuffle(labels);
        int shared = random.Next(ChainLength);
        int[] chainA = labels[..ChainLength], chainB = labels[ChainLength..];
        chainB[shared] = chainA[shared];
        var edges = new List<(int From, int To)>(2 * (ChainLength - 1));
        foreach (var chain in new[] { chainA, chainB })
            for (int i = 0; i + 1 < ChainLength; i++) edges.Add((chain[i], chain[i + 1]));
        random.Shuffle(edges);
        return Encode(edges, chainA);
    }

    /// <summary>The edge set and the query: the edges in any order are the same graph.</summary>
    public string ProblemKey(Example example)
    {
        var (edges, source, goal) = ReadPrompt(example.Prefix);
        edges.Sort();
        return string.Join('/', edges.Select(e => $"{e.From},{e.To}")) + $"-{source},{goal}";
    }

    /// <summary>
    /// Chain A is k of the 2k labels in order, the shared index one of k, chain B's other k - 1 nodes the remaining
    /// k labels less one, in order: (2k)!/k! x k x k! = k (2k)!. The edges, source and goal give all three back.
    /// </summary>
    public double ProblemCount => ChainLength * ProblemSet.Arrangements(2 * ChainLength, 2 * ChainLength);

    /// <summary>The example whose answer is <paramref name="path"/> (source first) through the shuffled <paramref name="edges"/>.</summary>
    public Example Encode(IReadOnlyList<(int From, int To)> edges, int[] path)
    {
        string prompt = string.Join('/', edges.Select(e => $"{e.From},{e.To}")) + $"-{path[0]},{path[^1]}";
        if (prompt.Length > PromptCharacters) throw new FormatException($"the prompt '{prompt}' is longer than any of {Description} ({PromptCharacters} characters)");
        var prefix = new int[PrefixLength];
        Array.Fill(prefix, Padding, 0, PromptCharacters - prompt.Length);
        Tokenize(prompt).CopyTo(prefix, PromptCharacters - prompt.Length);
        prefix[^1] = EndOfPrompt;
        return new Example(prefix, AnswerTokens(path));
    }

    /// <summary>Steps from the shared node to the goal when the path passes a choice there; 0 when it never branches.</summary>
    public int PlanningDistance(Example example)
    {
        var (edges, _, _) = ReadPrompt(example.Prefix);
        var path = ReadPath(example.Target) ?? throw new ArgumentException("the example's target is not a path", nameof(example));
        for (int i = 0; i + 1 < path.Length; i++)
            if (edges.Count(e => e.From == path[i]) > 1) return path.Length - 1 - i;
        return 0;
    }

    /// <summary>
    /// The answer tokens that hold the choice at the shared node: the successor's label and the '/' after it (so "1/" and "10" differ).
    /// Null at distance 0 and 1, where the prefix gives the successor away (there is none, or it is the goal).
    /// </summary>
    public Range? Decision(Example example)
    {
        int distance = PlanningDistance(example);
        if (distance < 2) return null;
        var path = ReadPath(example.Target)!;
        int branch = path.Length - 1 - distance, start = 0;
        for (int i = 0; i < branch; i++) start += Label(path[i]).Length + Label(path[i + 1]).Length + 2; // "a,b/"
        start += Label(path[branch]).Length + 1;
        return new Range(start, start + Label(path[branch + 1]).Length + 1);
    }

    /// <summary>The path's answer text written goal first, node by node (their "reversed" field); anything that is not a path comes back unchanged.</summary>
    public int[] ReverseAnswer(int[] answer) => ReversalOrder(answer) is { } order ? [.. order.Select(i => answer[i])] : answer;

    /// <summary>
    /// Edge e of the reversed answer is edge k - 2 - e of the answer read backwards: its second label, its comma, its
    /// first label, then the '/' in front of it. Padding stays where it is.
    /// </summary>
    public int[]? ReversalOrder(int[] answer)
    {
        if (ReadPath(answer) is not { } path) return null;
        var edges = new List<(int First, int Comma, int Second, int SlashBefore)>(); // start positions
        int position = 0;
        for (int e = 0; e + 1 < path.Length; e++)
        {
            int first = position, comma = first + Label(path[e]).Length, second = comma + 1;
            edges.Add((first, comma, second, first - 1));
            position = second + Label(path[e + 1]).Length + 1;
        }
        var order = new List<int>(TargetLength);
        for (int r = edges.Count - 1; r >= 0; r--)
        {
            var (first, comma, second, _) = edges[r];
            order.AddRange(Enumerable.Range(second, Label(path[r + 1]).Length));
            order.Add(comma);
            order.AddRange(Enumerable.Range(first, Label(path[r]).Length));
            if (r > 0) order.Add(edges[r].SlashBefore);
        }
        order.AddRange(Enumerable.Range(order.Count, TargetLength - order.Count));
        return [.. order];
    }

    public bool Accepts(Example example, ReadOnlySpan<int> answer)
    {
        if (ReadPath(answer.ToArray()) is not { } path) return false;
        var (edges, source, goal) = ReadPrompt(example.Prefix);
        if (path[0] != source || path[^1] != goal) return false;
        for (int i = 0; i + 1 < path.Length; i++)
            if (!edges.Contains((path[i], path[i + 1]))) return false;
        return true;
    }

    /// <summary>Only one path leads from the source to the goal, so a partial answer is admissible when every written token is that path's.</summary>
    public bool Admits(Example example, ReadOnlySpan<int> partial)
    {
        if (partial.Length != TargetLength) return false;
        for (int i = 0; i < partial.Length; i++)
            if (partial[i] != IVerifiableTask.Unwritten && partial[i] != example.Target[i]) return false;
        return true;
    }

    public string Format(Example example)
    {
        var path = ReadPath(example.Target) ?? throw new ArgumentException("the example's target is not a path", nameof(example));
        return new JsonObject
        {
            ["input"] = Text(example.Prefix.Where(t => t != Padding && t != EndOfPrompt)),
            ["output"] = Text(example.Target.Where(t => t != Padding)),
            ["reversed"] = Text(AnswerTokens([.. path.Reverse()]).Where(t => t != Padding)),
        }.ToJsonString();
    }

    public Example Parse(string line)
    {
        JsonObject json;
        try { json = JsonNode.Parse(line)?.AsObject() ?? throw new FormatException("expected a JSON object"); }
        catch (Exception e) when (e is JsonException or InvalidOperationException) { throw new FormatException($"expected a JSON line with 'input' and 'output': {e.Message}"); }
        string input = json["input"]?.GetValue<string>() ?? throw new FormatException("the line has no 'input'");
        string output = json["output"]?.GetValue<string>() ?? throw new FormatException("the line has no 'output'");
        string[] sides = input.Split('-');
        if (sides.Length != 2) throw new FormatException($"input '{input}' must be edges, '-', then source,goal");
        var edges = sides[0].Split('/').Select(e => Pair(e, "edge")).ToList();
        var (source, goal) = Pair(sides[1], "query");
        if (edges.Count != 2 * (ChainLength - 1)) throw new FormatException($"input has {edges.Count} edges; {Description} has {2 * (ChainLength - 1)}");
        var path = output.Split('/').Select(e => Pair(e, "answer edge")).ToList();
        for (int i = 0; i + 1 < path.Count; i++)
            if (path[i].To != path[i + 1].From) throw new FormatException($"answer '{output}' is not a path: edge {i + 1} ends at {path[i].To}, edge {i + 2} starts at {path[i + 1].From}");
        int[] nodes = [path[0].From, .. path.Select(p => p.To)];
        if (nodes[0] != source || nodes[^1] != goal) throw new FormatException($"answer '{output}' does not lead from {source} to {goal}");
        var example = Encode(edges, nodes);
        if (!Accepts(example, example.Target)) throw new FormatException($"answer '{output}' uses an edge the input does not have");
        return example;
    }

    private int[] AnswerTokens(int[] path)
    {
        var answer = new int[TargetLength];
        Array.Fill(answer, Padding);
        var text = Tokenize(string.Join('/', path.Zip(path.Skip(1), (a, b) => $"{a},{b}")));
        if (text.Length > TargetLength) throw new FormatException($"the answer is longer than any of {Description} ({TargetLength} characters)");
        text.CopyTo(answer, 0);
        return answer;
    }

    /// <summary>The nodes of an answer <c>a,b/b,c/...</c> followed only by padding, or null when it is not one.</summary>
    private int[]? ReadPath(int[] answer)
    {
        int end = Array.IndexOf(answer, Padding);
        if (end < 0) end = answer.Length;
        if (answer.Skip(end).Any(t => t != Padding) || answer.Take(end).Any(t => t is < 0 or >= 13)) return null;
        string text = Text(answer.Take(end));
        var nodes = new List<int>();
        foreach (string edge in text.Split('/'))
        {
            if (TryPair(edge) is not { } pair) return null;
            if (nodes.Count == 0) nodes.Add(pair.From);
            else if (nodes[^1] != pair.From) return null;
            nodes.Add(pair.To);
        }
        return nodes.Count >= 2 ? [.. nodes] : null;
    }

    private (List<(int From, int To)> Edges, int Source, int Goal) ReadPrompt(int[] prefix)
    {
        string[] sides = Text(prefix.Where(t => t != Padding && t != EndOfPrompt)).Split('-');
        var (source, goal) = Pair(sides[1], "query");
        return ([.. sides[0].Split('/').Select(e => Pair(e, "edge"))], source, goal);
    }

    private static (int From, int To) Pair(string text, string what) =>
        TryPair(text) ?? throw new FormatException($"{what} '{text}' must be two node labels separated by ','");

    private static (int From, int To)? TryPair(string text)
    {
        string[] parts = text.Split(',');
        return parts.Length == 2 && TryLabel(parts[0]) is { } a && TryLabel(parts[1]) is { } b ? (a, b) : null;
    }

    private static int? TryLabel(string text) =>
        text.Length is 1 or 2 && text.All(char.IsAsciiDigit) && (text.Length == 1 || text[0] != '0') ? int.Parse(text) : null;

    private static string Label(int node) => node.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private int[] Tokenize(string text) =>
        [.. text.Select(c => Symbols.IndexOf(c) is >= 0 and < 13 and var t ? t : throw new FormatException($"'{c}' is not a character of {Description}"))];

    private static string Text(IEnumerable<int> tokens)
    {
        var text = new StringBuilder();
        foreach (int t in tokens) text.Append(Symbols[t]);
        return text.ToString();
    }

    /// <summary>
    /// Each label is written once per appearance; only labels 10 and up take two characters. The prompt names
    /// every node once per edge it is on and the source and goal once more; the answer names the path's inner nodes
    /// twice and its ends once. The longest text gives the widest labels to the nodes named most often.
    /// </summary>
    private static (int Prompt, int Answer) LongestTexts(int k)
    {
        int wide = Math.Max(0, 2 * k - 10); // labels 10..2k-1
        // In the prompt: the shared node, when inner, on four edges; chain A's ends twice (an edge and the query);
        // every other inner node twice; chain B's ends once.
        int[] prompt = [4, .. Enumerable.Repeat(2, 2 + 2 * (k - 3)), 1, 1];
        int[] answer = [.. Enumerable.Repeat(2, k - 2), 1, 1];
        int edges = 2 * (k - 1);
        int promptBase = 3 * edges + (edges - 1) + 4; // "a,b" per edge, '/' between, "-s,g"
        int answerBase = 3 * (k - 1) + (k - 2);
        return (promptBase + prompt.Take(wide).Sum(), answerBase + answer.Take(wide).Sum());
    }
}

/// <summary>A task whose examples each carry a planning distance: how far ahead the choice that decides the answer must look.</summary>
public interface IPlanningDistanceTask : ITask
{
    int MaxPlanningDistance { get; }

    int PlanningDistance(Example example);

    /// <summary>Target tokens that hold the example's one hard decision, or null when the prefix gives every token away.</summary>
    Range? Decision(Example example);
}

/// <summary>
/// A task whose answer written backwards is not its tokens in reverse: a path whose labels span several
/// tokens reads goal first node by node, and its padding stays at the end.
/// </summary>
public interface IReversibleTask : ITask
{
    /// <summary>The answer written the other way; applied twice it gives the answer back. Tokens that form no answer come back unchanged.</summary>
    int[] ReverseAnswer(int[] answer);

    /// <summary>For each position of the reversed answer, the position of <paramref name="answer"/> its token comes from; null when the tokens form no answer.</summary>
    int[]? ReversalOrder(int[] answer);
}
