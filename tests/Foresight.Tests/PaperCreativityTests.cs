using Foresight.Evaluation;
using Foresight.Experiments;
using Foresight.Methods;
using Foresight.Models;
using Foresight.Tasks;
using Xunit;
using static TorchSharp.torch;

namespace Foresight.Tests;

/// <summary>
/// Nagarajan et al.'s (ICML 2025) four open-ended tasks at their sizes, their memory check and their hybrid teacherless,
/// each checked against the authors' data notebooks and evaluation (github.com/ChenWu98/algorithmic-creativity).
/// </summary>
public sealed class PaperCreativityTests
{
    private static List<ExperimentCell> Cells(string task) =>
        ExperimentFile.Load(Repository.PathOf("experiments", "creativity", "paper", $"{task}.json"));

    private static T Task<T>(string file, PrefixMode prefix) where T : OpenEndedTask =>
        Cells(file).Select(c => c.Task).OfType<T>().First(t => t.Prefix == prefix);

    [Fact]
    public void Each_paper_file_asks_the_hash_and_the_no_hash_data_of_the_notebooks()
    {
        foreach (string file in new[] { "sibling", "triangle", "circle", "line" })
        {
            var cells = Cells(file);
            var tasks = cells.Select(c => (OpenEndedTask)c.Task).ToList();
            Assert.Contains(tasks, t => t.Prefix == PrefixMode.Seed);
            Assert.Contains(tasks, t => t.Prefix == PrefixMode.Null);
            // HASH_STR_LEN = 10 over string.ascii_lowercase + string.digits; decoded greedily after it, sampled at T = 1 without.
            Assert.All(tasks, t => Assert.Equal((10, 36, t.Prefix == PrefixMode.Seed ? 0.0 : 1.0), (t.SeedLength, t.SeedSymbols, t.Temperature)));
            Assert.Contains(cells, c => c.Config.Method == "teacherless" && c.Config.MethodOptions is TeacherlessOptions { Hybrid: > 0 });
        }
    }

    [Fact]
    public void Sibling_discovery_at_the_paper_size_is_5_parents_with_500_first_and_500_second_children()
    {
        // sibling_hybrid.ipynb and the data set sibling.5.500.10.50000: NUM_A = 5, NUM_B_PER_A = 500, 50,000 training answers.
        var task = Task<SiblingDiscoveryTask>("sibling", PrefixMode.Seed);
        Assert.Equal((5, 500, SiblingLayout.Split), (task.Parents, task.Children, task.Layout));
        Assert.All(Cells("sibling"), c => Assert.Equal(50_000, c.Config.Training.TrainSamples));
        Assert.Equal(5 * 500 * 500, task.AnswerCount);                     // every (b1, b2) of one parent
        Assert.Equal(2 + 36 + 5 + 2 * 5 * 500, task.VocabularySize);     // '$', '_', the hash symbols, entities_a, entities_b1, entities_b2
        Assert.Equal(Math.Pow(36, 10), task.ProblemCount);
        var random = SeededRandom.For(0, "paper");
        for (int i = 0; i < 2000; i++)
        {
            var answer = task.Generate(random).Target;
            Assert.True(task.IsCoherent(answer));
            int parent = task.ParentOf(answer[0] - task.ChildToken(0));
            Assert.Contains(answer[0] - task.ChildToken(0), task.ChildrenOf(parent));
            Assert.Contains(answer[1] - task.ChildToken(0), task.SecondChildrenOf(parent));
            Assert.False(task.IsCoherent([answer[1], answer[0], answer[2]])); // the sets have an order
        }
    }

    [Fact]
    public void Triangle_discovery_at_the_paper_size_builds_their_graph_and_draws_as_they_do()
    {
        // triangle.ipynb: num_nodes = 999, D = 3, alpha = 1.2, T = 6, num_samples = 15000, triangle_prob = 1/3, 1,024 test prompts.
        var task = Task<TriangleDiscoveryTask>("triangle", PrefixMode.Seed);
        Assert.Equal((TriangleGraph.Paper, 999, 0.0), (task.Graph, task.Nodes, task.HeldOut));
        Assert.All(Cells("triangle"), c => Assert.Equal((15_000, 1_024), (c.Config.Training.TrainSamples, c.Config.Training.TestSamples)));
        // Their generator, run over five seeds, gave 3,694-3,752 edges and 2,318-2,375 triangles, every node of degree at least 3.
        Assert.InRange(task.EdgeCount, 3_550, 3_900);
        Assert.InRange(task.TriangleCount, 2_150, 2_550);
        Assert.All(Enumerable.Range(0, 999), v => Assert.True(Enumerable.Range(0, 999).Count(u => task.Adjacent(u, v)) >= 3));
        var random = SeededRandom.For(1, "paper");
        int triangles = 0;
        const int draws = 6000;
        for (int i = 0; i < draws; i++)
        {
            var example = task.Generate(random);
            if (!task.IsAnswer(example)) continue;
            triangles++;
            Assert.True(task.IsCoherent(example.Target));
        }
        Assert.InRange(triangles, draws / 3 - 150, draws / 3 + 150);
    }

    [Theory]
    [InlineData("circle", 9, 10 * 40_320 / 2)]       // circle.10.9.10.10000: 9 of 10 labels; 10 x 8! / 2 circles
    [InlineData("line", 10, 3_628_800 / 2)]          // line.10.9.10.10000: nodes = NUM_NODES + 1 = 10 of 10 labels; 10! / 2 lines
    public void Construction_at_the_paper_size_writes_9_directed_edges(string name, int vertices, int shapes)
    {
        var task = Task<ConstructionTask>(name, PrefixMode.Seed);
        Assert.Equal((10, vertices, 9, true), (task.Labels, task.Size, task.EdgeCount, task.Directed));
        Assert.Equal(shapes, task.AnswerCount);
        Assert.All(Cells(name), c => Assert.Equal(10_000, c.Config.Training.TrainSamples));
        var random = SeededRandom.For(2, "paper");
        for (int i = 0; i < 500; i++)
        {
            var answer = task.Generate(random).Target;
            Assert.True(task.IsCoherent(answer));
            // Written in visiting order: every vertex leaves by one edge at most and enters by one at most.
            var from = Enumerable.Range(0, 9).Select(e => answer[2 * e]).ToList();
            var to = Enumerable.Range(0, 9).Select(e => answer[2 * e + 1]).ToList();
            Assert.Equal(9, from.Distinct().Count());
            Assert.Equal(9, to.Distinct().Count());
        }
    }

    [Fact]
    public void Their_memory_check_of_a_shape_renames_vertices_by_first_appearance_and_keeps_the_edge_order()
    {
        var task = new ConstructionTask(new CircleOptions { Labels = 10, Size = 3, Directed = true });
        int V(int label) => task.VertexToken(label);
        int[] abc = [V(1), V(2), V(2), V(3), V(3), V(1)];
        int[] sameShapeOtherLabels = [V(7), V(4), V(4), V(9), V(9), V(7)];
        int[] sameEdgesOtherOrder = [V(2), V(3), V(1), V(2), V(3), V(1)];
        Assert.Equal(task.SeenKey(abc), task.SeenKey(sameShapeOtherLabels));
        Assert.NotEqual(task.AnswerKey(abc), task.AnswerKey(sameShapeOtherLabels));
        Assert.Equal(task.AnswerKey(abc), task.AnswerKey(sameEdgesOtherOrder));
        Assert.NotEqual(task.SeenKey(abc), task.SeenKey(sameEdgesOtherOrder));
        Assert.Equal("0,1,1,2,2,0", task.SeenKey(abc));

        // So a circle with new labels but a trained pattern is seen by their metric and original by ours.
        var memory = AnswerMemory.Of(task, [new Example(new int[task.PrefixLength], abc)]);
        var score = new CreativityScore(task, memory);
        score.Add(sameShapeOtherLabels);
        var m = score.Result();
        Assert.Equal((1.0, 0.0, 1.0), (m.Creativity, m.PaperCreativity!.Value, m.PaperSeen!.Value));
    }

    [Fact]
    public void Hybrid_teacherless_is_ntps_loss_plus_w_times_teacherless_and_answers_as_ntp_does()
    {
        var task = new SiblingDiscoveryTask(3, 4, 0, PrefixMode.Seed);
        var size = new ModelSize(Layers: 1, Width: 32, Heads: 2);
        ITrainingMethod Build(string name, IMethodOptions? options = null)
        {
            manual_seed(0);
            return MethodRegistry.Create(name, new MethodContext(task, size, Options: options));
        }
        using var ntp = Build("ntp");
        using var teacherless = Build("teacherless");
        using var hybrid = Build("teacherless", new TeacherlessOptions { Hybrid = 3 });
        var batch = TokenDataset.Generate(task, 16, SeededRandom.For(0, "hybrid")).Slice(0, 16);
        double expected = ntp.Loss(batch).item<float>() + 3 * teacherless.Loss(batch).item<float>();
        Assert.Equal(expected, hybrid.Loss(batch).item<float>(), 4);
        Assert.True(ntp.Decode(batch.Prefix).eq(hybrid.Decode(batch.Prefix)).all().item<bool>());
        Assert.True(ntp.TeacherForced(batch).eq(hybrid.TeacherForced(batch)).all().item<bool>());
        Assert.Equal("hybrid 3", Assert.Single(MethodOptionSet.Marks("teacherless", hybrid.ResolvedOptions)));
    }
}
