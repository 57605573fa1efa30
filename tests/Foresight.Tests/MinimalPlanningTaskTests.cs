using Foresight.Evaluation;
using Foresight.Methods;
using Foresight.Models;
using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Tests;

/// <summary>Ye et al.'s minimal-planning task: generator invariants, their text format, the verifier, planning distance and the reversed answer.</summary>
public sealed class MinimalPlanningTaskTests
{
    private static readonly MinimalPlanningTask Task = new(6);

    /// <summary>Chain A is 0..5 (the answer), chain B 6..11 with its node at <paramref name="shared"/> replaced by A's.</summary>
    private static Example TwoChains(int shared)
    {
        int[] a = [0, 1, 2, 3, 4, 5], b = [6, 7, 8, 9, 10, 11];
        b[shared] = a[shared];
        var edges = new List<(int, int)>();
        for (int i = 0; i < 5; i++) edges.AddRange([(a[i], a[i + 1]), (b[i], b[i + 1])]);
        return Task.Encode(edges, a);
    }

    private static string Text(IEnumerable<int> tokens) =>
        string.Concat(tokens.Select(t => "0123456789,/-=.$"[t]));

    [Theory]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(7)]
    [InlineData(12)]
    public void Every_example_is_two_chains_sharing_one_node_with_the_answer_the_path_from_the_first_chains_ends(int k)
    {
        var task = new MinimalPlanningTask(k);
        var random = SeededRandom.For(0, "planning");
        var distances = new int[k];
        for (int n = 0; n < 2000; n++)
        {
            var example = task.Generate(random);
            Assert.Equal(task.PrefixLength, example.Prefix.Length);
            Assert.Equal(task.TargetLength, example.Target.Length);
            Assert.Equal(task.EndOfPrompt, example.Prefix[^1]);
            // padding only on the left of the prompt and the right of the answer
            int promptStart = Array.FindIndex(example.Prefix, t => t != task.Padding);
            Assert.DoesNotContain(task.Padding, example.Prefix[promptStart..]);
            int answerEnd = Array.IndexOf(example.Target, task.Padding) is var e and >= 0 ? e : task.TargetLength;
            Assert.All(example.Target[answerEnd..], t => Assert.Equal(task.Padding, t));

            string[] sides = Text(example.Prefix[promptStart..^1]).Split('-');
            var edges = sides[0].Split('/').Select(p => p.Split(',').Select(int.Parse).ToArray()).ToList();
            Assert.Equal(2 * (k - 1), edges.Count);
            var labels = edges.SelectMany(p => p).Distinct().ToList();
            Assert.Equal(2 * k - 1, labels.Count); // one label replaced by the shared node
            Assert.All(labels, l => Assert.InRange(l, 0, 2 * k - 1));
            Assert.Single(labels, l => edges.Count(p => p[0] == l || p[1] == l) > 2 || (edges.Count(p => p[0] == l) == 2) || (edges.Count(p => p[1] == l) == 2));

            var path = Text(example.Target[..answerEnd]).Split('/').Select(p => p.Split(',').Select(int.Parse).ToArray()).ToList();
            Assert.Equal(k - 1, path.Count);
            Assert.Equal(sides[1], $"{path[0][0]},{path[^1][1]}");
            Assert.All(path, p => Assert.Contains(edges, q => q.SequenceEqual(p)));
            Assert.True(task.Accepts(example, example.Target));
            distances[task.PlanningDistance(example)]++;
        }
        Assert.All(distances, count => Assert.InRange(count, 2000 / k / 2, 2000 * 2 / k)); // the shared node's index is uniform
    }

    [Fact]
    public void Their_lines_parse_and_the_longest_prompt_and_answer_fit_the_fixed_lengths()
    {
        Assert.Equal(49 + 1, Task.PrefixLength); // 43 characters with one-digit labels, 6 more for 10 and 11 at most, then '='
        Assert.Equal(23, Task.TargetLength);
        // 10 is the shared inner node (four edges), 11 an inner node of the path: the longest both can be.
        string line = """{"input": "0,11/11,10/10,3/3,4/4,5/6,7/7,10/10,8/8,9/9,1-0,5", "output": "0,11/11,10/10,3/3,4/4,5", "reversed": "5,4/4,3/3,10/10,11/11,0"}""";
        var example = Task.Parse(line);
        Assert.DoesNotContain(Task.Padding, example.Prefix); // 49 characters: no room to spare
        Assert.Equal("0,11/11,10/10,3/3,4/4,5/6,7/7,10/10,8/8,9/9,1-0,5=", Text(example.Prefix.SkipWhile(t => t == Task.Padding)));
        Assert.Equal("0,11/11,10/10,3/3,4/4,5", Text(example.Target.TakeWhile(t => t != Task.Padding)));
        Assert.Equal(3, Task.PlanningDistance(example)); // the shared node 10 is the path's third node (index 2)
        var round = System.Text.Json.Nodes.JsonNode.Parse(Task.Format(example))!;
        Assert.Equal("0,11/11,10/10,3/3,4/4,5", (string)round["output"]!);
        Assert.Equal("5,4/4,3/3,10/10,11/11,0", (string)round["reversed"]!);

        var random = SeededRandom.For(3, "planning");
        for (int n = 0; n < 200; n++)
        {
            var generated = Task.Generate(random);
            var parsed = Task.Parse(Task.Format(generated));
            Assert.Equal(generated.Prefix, parsed.Prefix);
            Assert.Equal(generated.Target, parsed.Target);
        }
    }

    [Theory]
    [InlineData("""{"input": "0,1"}""", "no 'output'")]
    [InlineData("0,1/1,2-0,2", "JSON")]
    [InlineData("""{"input": "0,1/1,2/2,3/3,4/4,5/6,7/7,2/2,8/8,9/9,10-0,5", "output": "0,1/1,2/2,8/8,9/9,5"}""", "edge the input does not have")]
    [InlineData("""{"input": "0,1/1,2/2,3/3,4/4,5/6,7/7,2/2,8/8,9/9,10-0,5", "output": "0,1/2,3/3,4/4,5"}""", "not a path")]
    [InlineData("""{"input": "0,1/1,2/2,3/3,4/4,5/6,7/7,2/2,8-0,5", "output": "0,1/1,2/2,3/3,4/4,5"}""", "has 8 edges")]
    [InlineData("""{"input": "0,1/1,2/2,3/3,4/4,5/6,7/7,2/2,8/8,9/9,x-0,5", "output": "0,1/1,2/2,3/3,4/4,5"}""", "edge '9,x'")]
    public void Malformed_lines_say_what_is_wrong(string line, string expected) =>
        Assert.Contains(expected, Assert.Throws<FormatException>(() => Task.Parse(line)).Message);

    [Theory]
    [InlineData(0, 5)]
    [InlineData(1, 4)]
    [InlineData(3, 2)]
    [InlineData(4, 1)]
    [InlineData(5, 0)]
    public void Planning_distance_is_the_steps_from_the_shared_node_to_the_goal(int shared, int distance)
    {
        var example = TwoChains(shared);
        Assert.Equal(distance, Task.PlanningDistance(example));
        var decision = Task.Decision(example);
        if (distance < 2) { Assert.Null(decision); return; }
        // "0,1/1,2/...": the successor of node `shared` is written at 4 * shared + 2, then the '/' that ends its edge
        Assert.Equal(new Range(4 * shared + 2, 4 * shared + 4), decision);
        Assert.Equal($"{shared + 1}/", Text(example.Target[decision.Value]));
    }

    [Fact]
    public void The_verifier_accepts_only_the_path_to_the_goal()
    {
        var example = TwoChains(shared: 1);
        Assert.True(Task.Accepts(example, example.Target));
        var otherBranch = Task.Encode([], [0, 1, 8, 9, 10, 11]).Target; // leads to chain B's end
        Assert.False(Task.Accepts(example, otherBranch));
        var trailing = (int[])example.Target.Clone();
        trailing[^1] = 3;
        Assert.False(Task.Accepts(example, trailing)); // padding must end the answer
        Assert.False(Task.Accepts(example, Enumerable.Repeat(Task.Padding, Task.TargetLength).ToArray()));

        var partial = Enumerable.Repeat(IVerifiableTask.Unwritten, Task.TargetLength).ToArray();
        Assert.True(Task.Admits(example, partial));
        partial[^1] = Task.Padding;
        partial[6] = example.Target[6];
        Assert.True(Task.Admits(example, partial));
        partial[6] = otherBranch[6]; // '8' where '2' goes
        Assert.False(Task.Admits(example, partial));
    }

    [Fact]
    public void The_reversed_answer_is_written_node_by_node_from_the_goal_and_reversing_twice_gives_it_back()
    {
        var example = Task.Parse("""{"input": "0,11/11,10/10,3/3,4/4,5/6,7/7,10/10,8/8,9/9,1-0,5", "output": "0,11/11,10/10,3/3,4/4,5"}""");
        var reversed = Task.ReverseAnswer(example.Target);
        Assert.Equal("5,4/4,3/3,10/10,11/11,0", Text(reversed.TakeWhile(t => t != Task.Padding)));
        Assert.Equal(example.Target, Task.ReverseAnswer(reversed));
        var order = Task.ReversalOrder(example.Target)!;
        Assert.Equal(Enumerable.Range(0, Task.TargetLength), order.Order()); // a permutation of the positions
        Assert.Equal(reversed, order.Select(i => example.Target[i]));
        Assert.Equal([22, 21, 20, 19], order[..4]); // "5,4/": the last edge '4,5' (positions 20..22) backwards, then the '/' before it
        var garbage = Enumerable.Repeat(3, Task.TargetLength).ToArray();
        Assert.Equal(garbage, Task.ReverseAnswer(garbage));
    }

    [Fact]
    public void Reverse_trains_on_the_node_reversed_answer_and_refuses_a_fixed_writing_order()
    {
        manual_seed(0);
        using var method = (Reverse)MethodRegistry.Create("reverse", new MethodContext(Task, new ModelSize(1, 16, 2)));
        Assert.NotNull(method.VariableOrder);
        Assert.Contains("its own order", Assert.Throws<UserError>(() => method.WritingOrder).Message);
        var decoded = method.Decode(stack([tensor(TwoChains(2).Prefix.Select(t => (long)t).ToArray())]));
        Assert.Equal([1, Task.TargetLength], decoded.shape);
    }

    /// <summary>Answers right except at one planning distance, where it writes nothing but padding.</summary>
    private sealed class WrongAtDistance(IReadOnlyList<Example> examples, int distance) : ITrainingMethod
    {
        private readonly Dictionary<string, Example> _byPrefix = examples.ToDictionary(e => string.Join(' ', e.Prefix));
        public nn.Module Model { get; } = nn.Linear(1, 1);
        public int TokensPerExample => 1;
        public IMethodOptions? ResolvedOptions => null;
        public Tensor Loss(Batch batch) => zeros(1);
        public Tensor TeacherForced(Batch batch) => batch.Target;
        public Tensor Decode(Tensor prefix)
        {
            long[] flat = prefix.contiguous().data<long>().ToArray();
            int p = Task.PrefixLength;
            var rows = Enumerable.Range(0, (int)prefix.shape[0]).Select(i =>
            {
                var example = _byPrefix[string.Join(' ', flat.Skip(i * p).Take(p))];
                return Task.PlanningDistance(example) == distance ? Enumerable.Repeat(Task.Padding, Task.TargetLength).ToArray() : example.Target;
            });
            return tensor(rows.SelectMany(r => r.Select(t => (long)t)).ToArray(), [prefix.shape[0], Task.TargetLength]);
        }
        public void Dispose() => Model.Dispose();
    }

    [Fact]
    public void The_evaluator_scores_exact_match_per_planning_distance_and_the_decision_where_each_example_has_it()
    {
        var examples = Enumerable.Range(0, 600).Select(i => Task.Generate(SeededRandom.For(i, "evaluator"))).ToList();
        using var data = new TokenDataset(Task, examples);
        using var method = new WrongAtDistance(examples, distance: 3);
        var metrics = Evaluator.Evaluate(method, Task, data, batchSize: 128);
        Assert.NotNull(metrics.ByPlanningDistance);
        Assert.Equal([0, 1, 2, 3, 4, 5], metrics.ByPlanningDistance!.Select(d => d.Distance));
        Assert.Equal(600, metrics.ByPlanningDistance!.Sum(d => d.Examples));
        Assert.All(metrics.ByPlanningDistance!, d => Assert.Equal(d.Distance == 3 ? 0.0 : 1.0, d.ExactMatch));
        int decisions = examples.Count(e => Task.PlanningDistance(e) >= 2), atThree = examples.Count(e => Task.PlanningDistance(e) == 3);
        Assert.Equal((double)(decisions - atThree) / decisions, metrics.FirstDecisionAccuracy, 9);
        Assert.Equal(0.5, metrics.FirstDecisionChance);
    }
}
