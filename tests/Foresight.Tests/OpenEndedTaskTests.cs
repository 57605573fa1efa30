using Foresight.Evaluation;
using Foresight.Tasks;
using Xunit;

namespace Foresight.Tests;

public sealed class OpenEndedTaskTests
{
    private static readonly SiblingDiscoveryTask Sibling = new(parents: 3, children: 4, graphSeed: 0, PrefixMode.Seed);

    [Fact]
    public void Sibling_answers_are_two_different_children_of_one_parent_then_the_parent()
    {
        var random = SeededRandom.For(1, "test");
        for (int i = 0; i < 500; i++)
        {
            var example = Sibling.Generate(random);
            Assert.Equal(Sibling.PrefixLength, example.Prefix.Length);
            Assert.True(Sibling.IsCoherent(example.Target), Sibling.Format(example));
        }
        int parent = 1;
        var (a, b) = (Sibling.ChildrenOf(parent)[0], Sibling.ChildrenOf(parent)[2]);
        int stranger = Sibling.ChildrenOf(2)[0];
        Assert.True(Sibling.IsCoherent([Sibling.ChildToken(a), Sibling.ChildToken(b), Sibling.ParentToken(parent)]));
        Assert.False(Sibling.IsCoherent([Sibling.ChildToken(a), Sibling.ChildToken(a), Sibling.ParentToken(parent)]));       // one child twice
        Assert.False(Sibling.IsCoherent([Sibling.ChildToken(a), Sibling.ChildToken(stranger), Sibling.ParentToken(parent)])); // not siblings
        Assert.False(Sibling.IsCoherent([Sibling.ChildToken(a), Sibling.ChildToken(b), Sibling.ParentToken(2)]));             // wrong parent
        Assert.False(Sibling.IsCoherent([Sibling.ParentToken(parent), Sibling.ChildToken(a), Sibling.ChildToken(b)]));        // parent first
        // The pair in either order is one answer.
        Assert.Equal(Sibling.AnswerKey([Sibling.ChildToken(a), Sibling.ChildToken(b), Sibling.ParentToken(parent)]),
                     Sibling.AnswerKey([Sibling.ChildToken(b), Sibling.ChildToken(a), Sibling.ParentToken(parent)]));
    }

    [Fact]
    public void The_hidden_graph_follows_the_graph_seed_not_the_run()
    {
        var again = new SiblingDiscoveryTask(3, 4, graphSeed: 0, PrefixMode.Null);
        var other = new SiblingDiscoveryTask(3, 4, graphSeed: 1, PrefixMode.Seed);
        Assert.Equal(Enumerable.Range(0, 3).Select(p => Sibling.ChildrenOf(p)), Enumerable.Range(0, 3).Select(p => again.ChildrenOf(p)));
        Assert.NotEqual(Enumerable.Range(0, 3).Select(p => Sibling.ChildrenOf(p)), Enumerable.Range(0, 3).Select(p => other.ChildrenOf(p)));
        Assert.Equal(Enumerable.Range(0, 12).Order(), Enumerable.Range(0, 3).SelectMany(p => Sibling.ChildrenOf(p)).Order()); // a partition
    }

    [Fact]
    public void Prefixes_are_fresh_seed_strings_or_one_constant()
    {
        var random = SeededRandom.For(2, "test");
        var seeds = Enumerable.Range(0, 200).Select(_ => string.Join(',', Sibling.Generate(random).Prefix)).ToList();
        Assert.True(seeds.Distinct().Count() > 195);
        var nulls = new SiblingDiscoveryTask(3, 4, 0, PrefixMode.Null);
        Assert.All(Enumerable.Range(0, 20).Select(_ => nulls.Generate(random).Prefix), p => Assert.All(p, t => Assert.Equal(nulls.NullToken, t)));
        Assert.Equal(0, Sibling.Temperature);
        Assert.Equal(1, nulls.Temperature);
    }

    [Fact]
    public void Triangle_training_shows_edges_and_only_the_shown_triangles()
    {
        var task = new TriangleDiscoveryTask(nodes: 30, edgeProbability: 0.3, heldOut: 0.5, graphSeed: 0, PrefixMode.Seed);
        Assert.InRange(task.TriangleCount, 20, 400);
        var shown = task.ShownTriangles.Select(t => task.AnswerKey([.. t.Select(task.NodeToken)])).ToHashSet();
        Assert.Equal(task.TriangleCount - (int)Math.Round(0.5 * task.TriangleCount), shown.Count);
        var random = SeededRandom.For(3, "train");
        int edges = 0, triangles = 0;
        for (int i = 0; i < 2000; i++)
        {
            var example = task.Generate(random);
            if (task.IsAnswer(example))
            {
                triangles++;
                Assert.True(task.IsCoherent(example.Target));
                Assert.Contains(task.AnswerKey(example.Target), shown);
            }
            else
            {
                edges++;
                Assert.Equal(task.EdgeMode, example.Prefix[^1]);
                Assert.True(task.Adjacent(example.Target[0] - task.NodeToken(0), example.Target[1] - task.NodeToken(0)));
                Assert.Equal(task.Padding, example.Target[2]);
            }
        }
        Assert.InRange(edges, 800, 1200);
        Assert.InRange(triangles, 800, 1200);
        Assert.All(Enumerable.Range(0, 50).Select(_ => task.GeneratePrompt(random)), p => Assert.Equal(task.TriangleMode, p.Prefix[^1]));
        // A triangle the training data never shows is still coherent: that is what a creative model finds.
        int[] hidden = FirstHeldOutTriangle(task, shown);
        Assert.True(task.IsCoherent(hidden));
        Assert.DoesNotContain(task.AnswerKey(hidden), shown);
    }

    private static int[] FirstHeldOutTriangle(TriangleDiscoveryTask task, HashSet<string> shown)
    {
        for (int a = 0; a < task.Nodes; a++)
            for (int b = a + 1; b < task.Nodes; b++)
                for (int c = b + 1; c < task.Nodes; c++)
                {
                    int[] answer = [task.NodeToken(c), task.NodeToken(a), task.NodeToken(b)];
                    if (task.IsCoherent(answer) && !shown.Contains(task.AnswerKey(answer))) return answer;
                }
        throw new InvalidOperationException("no held-out triangle");
    }

    [Theory]
    [InlineData(Shape.Circle)]
    [InlineData(Shape.Line)]
    public void Constructions_draw_one_shape_through_distinct_vertices(Shape shape)
    {
        var task = new ConstructionTask(shape, labels: 10, size: 6, PrefixMode.Seed);
        Assert.Equal(shape == Shape.Circle ? 12 : 10, task.TargetLength);
        var random = SeededRandom.For(4, "train");
        for (int i = 0; i < 500; i++) Assert.True(task.IsCoherent(task.Generate(random).Target));
        int V(int v) => task.VertexToken(v);
        if (shape == Shape.Circle)
        {
            Assert.True(task.IsCoherent([V(1), V(2), V(3), V(2), V(3), V(4), V(5), V(4), V(6), V(5), V(1), V(6)]));
            Assert.False(task.IsCoherent([V(1), V(2), V(2), V(3), V(3), V(1), V(4), V(5), V(5), V(6), V(6), V(4)])); // two triangles: degrees right, not connected
            Assert.False(task.IsCoherent([V(1), V(2), V(2), V(1), V(3), V(4), V(4), V(5), V(5), V(6), V(6), V(3)])); // an edge twice
            Assert.False(task.IsCoherent([V(1), V(1), V(2), V(3), V(3), V(4), V(4), V(5), V(5), V(6), V(6), V(2)])); // a loop
        }
        else
        {
            Assert.True(task.IsCoherent([V(5), V(4), V(1), V(2), V(3), V(2), V(3), V(4), V(5), V(6)]));
            Assert.False(task.IsCoherent([V(1), V(2), V(2), V(3), V(3), V(1), V(4), V(5), V(5), V(6)])); // a triangle and a line
            Assert.False(task.IsCoherent([V(1), V(2), V(1), V(3), V(1), V(4), V(1), V(5), V(1), V(6)])); // a star
            Assert.False(task.IsCoherent([V(1), V(2), V(2), V(3), V(3), V(4), V(4), V(5), V(5), task.NullToken]));
        }
        // The same edges in another order, or turned, are the same answer.
        var example = task.Generate(random).Target;
        int[] turned = [.. example];
        (turned[0], turned[1]) = (turned[1], turned[0]);
        (turned[2], turned[3], turned[4], turned[5]) = (turned[4], turned[5], turned[2], turned[3]);
        Assert.Equal(task.AnswerKey(example), task.AnswerKey(turned));
    }

    [Fact]
    public void Creativity_counts_coherent_unique_unseen_answers_over_all_answers()
    {
        int C(int parent, int i) => Sibling.ChildToken(Sibling.ChildrenOf(parent)[i]);
        int P(int parent) => Sibling.ParentToken(parent);
        int[] memorised = [C(0, 0), C(0, 1), P(0)];
        var memory = AnswerMemory.Of(Sibling, [new Example(new int[Sibling.PrefixLength], memorised)]);
        var score = new CreativityScore(Sibling, memory);
        score.Add([C(1, 0), C(1, 1), P(1)]);  // new and coherent
        score.Add([C(1, 1), C(1, 0), P(1)]);  // the same pair again, in the other order: a duplicate
        score.Add([C(0, 1), C(0, 0), P(0)]);  // coherent but memorised
        score.Add([C(2, 0), C(2, 2), P(2)]);  // new and coherent
        score.Add([C(2, 0), C(1, 2), P(2)]);  // new but incoherent
        var m = score.Result();
        Assert.Equal(5, m.Samples);
        Assert.Equal(2.0 / 5, m.Creativity, 12);
        Assert.Equal(4.0 / 5, m.Coherence, 12);
        Assert.Equal(4.0 / 5, m.Uniqueness, 12);  // 4 distinct answers
        Assert.Equal(4.0 / 5, m.Originality, 12); // 1 memorised
        Assert.Equal("seed", m.Prefix);
        Assert.Equal(3.0 / 4, m.CoherentOriginality!.Value, 12); // of the 4 coherent answers, 1 memorised
        Assert.Equal(1.0 / 18, m.BaseRate!.Value, 12);             // 1 of 3 x (4 x 3 / 2) pairs in training
        Assert.Equal(1, m.Ceiling);
        // Nagarajan et al. compare strings: the memorised pair written the other way round is not seen, nor a repeat.
        Assert.Equal(4.0 / 5, m.PaperCreativity!.Value, 12);
        Assert.Equal(4.0 / 5, m.PaperDiversity!.Value, 12);
        Assert.Equal(0, m.PaperSeen);
        Assert.InRange(m.DataCreativity!.Value, 0.2, 1);
    }

    [Fact]
    public void Side_knowledge_is_not_memory()
    {
        var task = new TriangleDiscoveryTask(30, 0.3, 0.5, 0, PrefixMode.Null);
        var random = SeededRandom.For(5, "train");
        var examples = Enumerable.Range(0, 200).Select(_ => task.Generate(random)).ToList();
        var memory = AnswerMemory.Of(task, examples);
        Assert.Equal(examples.Where(task.IsAnswer).Select(e => task.AnswerKey(e.Target)).Distinct().Count(), memory.Keys.Count);
        Assert.True(examples.Count(task.IsAnswer) < examples.Count);
    }

    [Theory]
    [InlineData("sibling")]
    [InlineData("triangle")]
    [InlineData("circle")]
    [InlineData("line")]
    public void Text_format_round_trips_and_config_rebuilds_the_task(string name)
    {
        var task = (OpenEndedTask)TaskSpec.FromJson(new() { ["name"] = name, ["prefix"] = "null" }).Build();
        var random = SeededRandom.For(6, "train");
        var example = task.Generate(random);
        var parsed = task.Parse(task.Format(example));
        Assert.Equal(example.Prefix, parsed.Prefix);
        Assert.Equal(example.Target, parsed.Target);
        var rebuilt = TaskSpec.FromJson(task.Spec.ToJson()).Build();
        Assert.Equal(task.Spec, rebuilt.Spec);
        Assert.Equal(task.Spec.ToJson().ToJsonString(), rebuilt.Spec.ToJson().ToJsonString());
        Assert.Throws<FormatException>(() => task.Parse("s1 s2 = v1"));
    }

    [Theory]
    [InlineData("ntp")]
    [InlineData("reverse")]
    [InlineData("teacherless")]
    [InlineData("diffusion")]
    [InlineData("bst")]
    public void Sampling_at_a_temperature_is_random_across_rows_repeatable_by_seed_and_greedy_at_zero(string name)
    {
        var task = new ConstructionTask(Shape.Circle, 10, 6, PrefixMode.Null);
        TorchSharp.torch.manual_seed(0);
        using var method = Methods.MethodRegistry.Create(name, new Methods.MethodContext(task, new Models.ModelSize(Layers: 1, Width: 32, Heads: 2)));
        var prompts = TorchSharp.torch.full(64, task.PrefixLength, task.NullToken, dtype: TorchSharp.torch.ScalarType.Int64);
        using var _ = TorchSharp.torch.no_grad();
        long[] Draw(double temperature, ulong seed)
        {
            using var generator = new TorchSharp.torch.Generator(seed);
            return method.Sample(prompts, temperature, generator).data<long>().ToArray();
        }
        var rows = Draw(1.0, 7).Chunk(task.TargetLength).Select(r => string.Join(',', r)).ToList();
        Assert.True(rows.Distinct().Count() > 32, $"{name}: {rows.Distinct().Count()} distinct rows of 64 from one prompt");
        Assert.Equal(Draw(1.0, 7), Draw(1.0, 7));
        Assert.Equal(method.Decode(prompts).data<long>().ToArray(), Draw(0, 7));
    }

    [Fact]
    public void A_trained_run_records_its_creativity_and_the_report_shows_it_beside_the_poster()
    {
        using var temp = new TempDirectory();
        var task = new ConstructionTask(new LineOptions { Labels = 10, Size = 10, Directed = true, Prefix = PrefixMode.Null, SeedLength = 10, SeedSymbols = 36 }); // the paper's
        var training = new Runs.TrainingConfig(TrainSamples: 256, TestSamples: 64, BatchSize: 64, WarmupSteps: 2, EvalEvery: 2, EvalSamples: 32);
        var (train, test) = Training.Trainer.MakeData(task, training);
        using (train)
        using (test)
        {
            Assert.All(test.Examples(), e => Assert.All(e.Prefix, t => Assert.Equal(task.NullToken, t)));
            foreach (string method in new[] { "ntp", "teacherless" })
            {
                var run = Runs.RunDirectory.Create(temp[method]);
                var result = Training.Trainer.Train(new Runs.RunConfig(method, task.Spec, new Models.ModelSize(1, 32, 2), training), train, test, run);
                var c = result.Test.Creativity!;
                Assert.Equal(64, c.Samples);
                Assert.Equal(1, c.Temperature);
                Assert.InRange(c.Creativity, 0, Math.Min(c.Coherence, Math.Min(c.Uniqueness, c.Originality)));
            }
        }
        var runs = Reports.ReportRun.Find([temp.Path]);
        var files = Reports.Report.Write(runs, temp["report"], overwrite: false);
        Assert.Contains(temp["report/creativity.png"], files);
        string markdown = File.ReadAllText(temp["report/report.md"]);
        Assert.Contains("## Algorithmic creativity", markdown);
        Assert.Contains("≈47% ±3 (main table; prefix not stated) [1]", markdown);  // the poster's ntp on line construction
        Assert.Contains("≈32% ±3 (null prefix, temperature) [1]", markdown);
        Assert.Contains("null prefix, T = 1", markdown);
        Assert.Contains("### By their evaluation, and against what a sampler could score", markdown);
        Assert.DoesNotContain("exact_match_vs_samples.png", markdown); // exact match against one drawn answer means nothing here
    }

    [Fact]
    public void Bad_sizes_name_their_field()
    {
        Assert.Contains("task.size", Assert.Throws<ConfigError>(() => new ConstructionTask(Shape.Circle, 10, 2, PrefixMode.Seed)).Message);
        Assert.Contains("task.labels", Assert.Throws<ConfigError>(() => new ConstructionTask(Shape.Line, 4, 6, PrefixMode.Seed)).Message);
        Assert.Contains("task.children", Assert.Throws<ConfigError>(() => new SiblingDiscoveryTask(3, 1, 0, PrefixMode.Seed)).Message);
        Assert.Contains("task.edge_probability", Assert.Throws<ConfigError>(() => new TriangleDiscoveryTask(5, 0.05, 0.5, 0, PrefixMode.Seed)).Message);
        Assert.Contains("task.prefix", Assert.Throws<ConfigError>(() => TaskSpec.FromJson(new() { ["name"] = "line", ["prefix"] = "hash" })).Message);
        Assert.Contains("task.temperature", Assert.Throws<ConfigError>(() => new ConstructionTask(Shape.Line, 10, 6, PrefixMode.Null, temperature: -1)).Message);
    }
}
