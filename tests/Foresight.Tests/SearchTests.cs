using Foresight.Methods;
using Foresight.Models;
using Foresight.Search;
using Foresight.Tasks;
using static TorchSharp.torch;

namespace Foresight.Tests;

/// <summary>The path-star verifier, and the search decoders on hand-made models and on real untrained ones.</summary>
public sealed class SearchTests
{
    private const int U = IVerifiableTask.Unwritten;

    // 0 -> 1 -> 2 and 0 -> 3 -> 4; the goal is 2.
    private static readonly PathStarTask Tiny = new(2, 3, 10);
    private static readonly Example TinyExample = Tiny.Parse("0,3|1,2|0,1|3,4/0,2=0,1,2");

    [Theory]
    [InlineData(new[] { 0, 1, 2 }, true)]
    [InlineData(new[] { 0, 3, 4 }, false)] // a path of the graph, to the wrong leaf
    [InlineData(new[] { 0, 1, 4 }, false)] // 1 -> 4 is not an edge
    [InlineData(new[] { 1, 2, 2 }, false)] // does not start at the source
    [InlineData(new[] { 0, 1 }, false)]    // too short
    [InlineData(new[] { 0, 1, U }, false)] // not finished
    [InlineData(new[] { 0, 10, 2 }, false)] // '|' is not a node
    public void Verifier_accepts_exactly_the_path_from_the_source_to_the_goal(int[] answer, bool accepted) =>
        Assert.Equal(accepted, Tiny.Accepts(TinyExample, answer));

    [Theory]
    [InlineData(new[] { U, U, U }, true)]
    [InlineData(new[] { 0, U, U }, true)]
    [InlineData(new[] { 0, 3, U }, true)]  // an edge: a wrong turn the verifier cannot see yet
    [InlineData(new[] { 0, 2, U }, false)] // 0 -> 2 is not an edge
    [InlineData(new[] { 3, U, U }, false)] // not the source
    [InlineData(new[] { U, U, 4 }, false)] // not the goal
    [InlineData(new[] { U, 1, 2 }, true)]  // written from the goal back, as reverse does
    [InlineData(new[] { U, 3, 2 }, false)] // 3 -> 2 is not an edge
    public void Verifier_admits_partial_answers_that_break_no_local_rule(int[] partial, bool admitted) =>
        Assert.Equal(admitted, Tiny.Admits(TinyExample, partial));

    [Fact]
    public void Verifier_accepts_every_generated_target_and_rejects_every_other_branch()
    {
        var random = SeededRandom.For(0, "verifier");
        var task = new PathStarTask(3, 4, 30);
        for (int i = 0; i < 50; i++)
        {
            var example = task.Generate(random);
            Assert.True(task.Accepts(example, example.Target));
            foreach (var branch in task.Branches(example).Where(b => !b.SequenceEqual(example.Target)))
                Assert.False(task.Accepts(example, branch));
        }
    }

    /// <summary>A model whose next-token ranking is a fixed list, whatever it has written: it can be made to prefer the wrong arm.</summary>
    private sealed class FixedPreference(int vocabulary, int[] preferred, IReadOnlyList<int> order) : IStepwiseDecoder
    {
        public IReadOnlyList<int> WritingOrder => order;

        public Tensor NextTokenLogits(Tensor prefix, Tensor written)
        {
            var logits = new float[vocabulary];
            for (int rank = 0; rank < preferred.Length; rank++) logits[preferred[rank]] = preferred.Length - rank;
            return tensor(logits).unsqueeze(0).expand(prefix.shape[0], vocabulary);
        }
    }

    private static Tensor Prefixes(params Example[] examples) =>
        tensor(examples.SelectMany(e => e.Prefix.Select(t => (long)t)).ToArray()).view(examples.Length, -1);

    [Fact]
    public void Backtracking_finds_the_path_when_the_model_ranks_the_wrong_arm_first()
    {
        // Preference 3, 4, 1, 2, 0: the source is tried last at step one, then the wrong arm (3, 4) comes first.
        var model = new FixedPreference(Tiny.VocabularySize, [3, 4, 1, 2, 0], [0, 1, 2]);
        var greedy = new GreedyDecoder().Decode(model, Tiny, [TinyExample], Prefixes(TinyExample)).Single();
        Assert.Equal(new[] { 3, 3, 3 }, greedy.Answer);

        var found = new Backtracking(100).Decode(model, Tiny, [TinyExample], Prefixes(TinyExample)).Single();
        Assert.Equal(new[] { 0, 1, 2 }, found.Answer);
        // Written: 0, 3; then 4 is refused (the last node must be the goal) and nothing else follows 3,
        // so back to 0 and on with 1, 2. Calls: one per step reached (after nothing, 0, 0 3, 0 1).
        Assert.Equal(4, found.TokensWritten);
        Assert.Equal(4, found.ModelCalls);
    }

    [Fact]
    public void Backtracking_steers_a_model_that_writes_the_goal_first()
    {
        var model = new FixedPreference(Tiny.VocabularySize, [4, 3, 0, 1, 2], [2, 1, 0]);
        var found = new Backtracking(100).Decode(model, Tiny, [TinyExample], Prefixes(TinyExample)).Single();
        Assert.Equal(new[] { 0, 1, 2 }, found.Answer);
        Assert.Equal(3, found.TokensWritten); // 2 is the only goal, 1 its only parent, 0 the only source
    }

    [Fact]
    public void Backtracking_gives_up_at_its_budget()
    {
        var model = new FixedPreference(Tiny.VocabularySize, [3, 4, 1, 2, 0], [0, 1, 2]);
        var result = new Backtracking(budget: 2).Decode(model, Tiny, [TinyExample], Prefixes(TinyExample)).Single();
        Assert.False(Tiny.Accepts(TinyExample, result.Answer));
        Assert.Equal(2, result.ModelCalls);
    }

    /// <summary>A model that knows the graph but not the plan: it writes the source, then a uniformly random child of the last node.</summary>
    private sealed class ArmGuesser(PathStarTask task, IReadOnlyList<Example> examples) : IStepwiseDecoder
    {
        public IReadOnlyList<int> WritingOrder { get; } = [.. Enumerable.Range(0, task.TargetLength)];

        public Tensor NextTokenLogits(Tensor prefix, Tensor written)
        {
            int rows = (int)prefix.shape[0], k = (int)written.shape[1];
            var logits = full(rows, task.VocabularySize, -1e9f);
            for (int r = 0; r < rows; r++)
            {
                var example = examples[r / (rows / examples.Count)];
                var allowed = k == 0
                    ? [example.Target[0]]
                    : task.Branches(example).Where(b => b.Take(k).SequenceEqual(written[r].data<long>().Select(t => (int)t))).Select(b => b[k]).Distinct();
                foreach (int token in allowed) logits[r, token] = 0f;
            }
            return logits;
        }
    }

    [Fact]
    public void Best_of_k_returns_a_sample_the_verifier_accepts_and_is_reproducible()
    {
        var task = new PathStarTask(2, 4, 20);
        var random = SeededRandom.For(0, "best-of-k");
        var examples = Enumerable.Range(0, 40).Select(_ => task.Generate(random)).ToArray();
        var model = new ArmGuesser(task, examples);

        var first = new VerifiedSampling(samples: 16, temperature: 1, seed: 3).Decode(model, task, examples, Prefixes(examples));
        var again = new VerifiedSampling(samples: 16, temperature: 1, seed: 3).Decode(model, task, examples, Prefixes(examples));
        for (int i = 0; i < examples.Length; i++)
        {
            Assert.Equal(examples[i].Target, first[i].Answer); // P(no sample of 16 is right) = 2^-16 per instance
            Assert.Equal(first[i].Answer, again[i].Answer);
            Assert.Equal(first[i].SamplesAccepted, again[i].SamplesAccepted);
            Assert.Equal(16 * task.TargetLength, first[i].TokensWritten);
        }
        double acceptance = first.Sum(r => r.SamplesAccepted) / (16.0 * examples.Length);
        Assert.InRange(acceptance, 0.4, 0.6); // one arm in two; 640 samples, standard deviation 0.02
    }

    private static readonly PathStarTask Task = new(2, 5, 20);

    private static ITrainingMethod Untrained(string name)
    {
        manual_seed(0);
        return MethodRegistry.Create(name, new MethodContext(Task, new ModelSize(Layers: 2, Width: 32, Heads: 2)));
    }

    [Theory]
    [InlineData("ntp")]
    [InlineData("reverse")]
    [InlineData("bst")]
    public void Greedy_search_decoding_is_the_methods_own_decoding(string name)
    {
        using var method = Untrained(name);
        using var data = TokenDataset.Generate(Task, 16, SeededRandom.For(0, "greedy"));
        var batch = data.Slice(0, 16);
        using var _ = no_grad();
        var own = StepwiseWriting.ToAnswers(method.Decode(batch.Prefix), [.. Enumerable.Range(0, Task.TargetLength)]);
        var greedy = new GreedyDecoder().Decode((IStepwiseDecoder)method, Task, batch.Examples(), batch.Prefix);
        Assert.Equal(own, greedy.Select(r => r.Answer));
    }

    [Theory]
    [InlineData("ntp")]
    [InlineData("reverse")]
    public void Backtracking_solves_every_path_star_instance_even_with_an_untrained_model(string name)
    {
        // With the verifier, only the source's arms are choices: at most 1 + degree x (length - 1) calls.
        using var method = Untrained(name);
        using var data = TokenDataset.Generate(Task, 30, SeededRandom.For(0, "backtrack"));
        var metrics = SearchDecoding.Evaluate(method, Task, data, new Backtracking(100));
        Assert.Equal(1.0, metrics.ExactMatch);
        Assert.Equal(1.0, metrics.VerifierAccepted);
        Assert.InRange(metrics.ModelCallsPerInstance, Task.TargetLength - 1, 1 + Task.Degree * (Task.PathLength - 1));
    }

    [Theory]
    [InlineData("beam")]
    [InlineData("sample:0")]
    [InlineData("sample:x")]
    public void Unknown_decoders_are_one_line_errors(string text) =>
        Assert.ThrowsAny<UserError>(() => SearchDecoding.Parse(text));

    [Fact]
    public void Search_decoding_refuses_a_diffusion_run()
    {
        using var method = Untrained("diffusion");
        using var data = TokenDataset.Generate(Task, 4, SeededRandom.For(0, "refuse"));
        var error = Assert.ThrowsAny<UserError>(() => SearchDecoding.Evaluate(method, Task, data, new Backtracking(100)));
        Assert.Contains("one token at a time", error.Message);
    }
}
