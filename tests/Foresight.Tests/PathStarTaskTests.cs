using Foresight.Tasks;

namespace Foresight.Tests;

public sealed class PathStarTaskTests
{
    private static readonly PathStarTask Task = new(degree: 3, pathLength: 5, nodes: 30);

    private static List<(int From, int To)> Edges(Example e, PathStarTask task)
    {
        var edges = new List<(int, int)>();
        for (int i = 0; i < task.EdgeCount; i++) edges.Add((e.Prefix[3 * i], e.Prefix[3 * i + 1]));
        return edges;
    }

    [Fact]
    public void Generated_graph_is_a_star_with_degree_arms_of_equal_length()
    {
        var random = SeededRandom.For(1, "test");
        for (int n = 0; n < 200; n++)
        {
            var example = Task.Generate(random);
            var edges = Edges(example, Task);
            int source = example.Target[0];

            Assert.Equal(Task.EdgeCount, edges.Count);
            Assert.Equal(Task.Degree, edges.Count(e => e.From == source));
            Assert.DoesNotContain(edges, e => e.To == source);
            // Every other node has exactly one parent and at most one child: arms are chains.
            foreach (int node in edges.Select(e => e.To))
            {
                Assert.Equal(1, edges.Count(e => e.To == node));
                Assert.True(edges.Count(e => e.From == node) <= 1);
            }
            // Walking each arm from the source reaches a leaf after l - 1 steps.
            foreach (var first in edges.Where(e => e.From == source))
            {
                int node = first.To, steps = 1;
                while (edges.Any(e => e.From == node)) { node = edges.First(e => e.From == node).To; steps++; }
                Assert.Equal(Task.PathLength - 1, steps);
            }
        }
    }

    [Fact]
    public void Labels_are_distinct_and_in_range()
    {
        var random = SeededRandom.For(2, "test");
        for (int n = 0; n < 200; n++)
        {
            var edges = Edges(Task.Generate(random), Task);
            var labels = edges.SelectMany(e => new[] { e.From, e.To }).Distinct().ToList();
            Assert.Equal(1 + Task.EdgeCount, labels.Count);
            Assert.All(labels, l => Assert.InRange(l, 0, Task.Nodes - 1));
        }
    }

    [Fact]
    public void Goal_is_a_leaf_and_the_target_is_the_path_from_source_to_goal()
    {
        var random = SeededRandom.For(3, "test");
        for (int n = 0; n < 200; n++)
        {
            var example = Task.Generate(random);
            var edges = Edges(example, Task).ToHashSet();
            int[] prefixTail = example.Prefix[^4..];
            Assert.Equal([Task.QueryMarker, example.Target[0], example.Target[^1], Task.AnswerMarker], prefixTail);
            Assert.DoesNotContain(edges, e => e.From == example.Target[^1]);
            Assert.Equal(Task.PathLength, example.Target.Length);
            for (int i = 0; i + 1 < example.Target.Length; i++)
                Assert.Contains((example.Target[i], example.Target[i + 1]), edges);
        }
    }

    [Fact]
    public void Goal_arm_and_edge_order_vary()
    {
        var random = SeededRandom.For(4, "test");
        var firstEdgeIsOnPath = Enumerable.Range(0, 400).Select(_ =>
        {
            var e = Task.Generate(random);
            return e.Prefix[0] == e.Target[0] && e.Prefix[1] == e.Target[1];
        }).Count(x => x);
        Assert.InRange(firstEdgeIsOnPath, 1, 60); // a shuffled list starts with the path's first edge 1/12 of the time
    }

    [Fact]
    public void Same_seed_gives_the_same_examples_and_another_seed_does_not()
    {
        string Lines(long seed)
        {
            var random = SeededRandom.For(seed, "train");
            return string.Join("\n", Enumerable.Range(0, 50).Select(_ => Task.Format(Task.Generate(random))));
        }
        Assert.Equal(Lines(7), Lines(7));
        Assert.NotEqual(Lines(7), Lines(8));
    }

    [Fact]
    public void Sequence_shape_and_vocabulary_follow_the_reference()
    {
        var task = new PathStarTask(2, 5, 50);
        Assert.Equal(54, task.VocabularySize);
        Assert.Equal(27, task.PrefixLength); // 8 edges: 16 labels, 7 '|', then / s g =
        Assert.Equal(5, task.TargetLength);
        Assert.Equal(0.5, task.FirstDecisionChance);
        Assert.Equal(1, task.FirstDecisionPosition);
    }

    [Theory]
    [InlineData(0, 5, 50, "task.degree must be at least 1, got 0")]
    [InlineData(2, 1, 50, "task.path_length must be at least 2")]
    [InlineData(3, 5, 12, "task.nodes is 12, but G(3,5,12) needs 1 + 3x(5-1) = 13 distinct node labels")]
    [InlineData(2, 5, 1, "task.nodes must be at least 2, got 1")]
    public void Impossible_parameters_are_a_clear_error(int degree, int pathLength, int nodes, string message)
    {
        var error = Assert.ThrowsAny<UserError>(() => new PathStarTask(degree, pathLength, nodes));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Smallest_possible_graph_is_allowed()
    {
        var task = new PathStarTask(3, 5, 13);
        var example = task.Generate(SeededRandom.For(0, "x"));
        Assert.Equal(13, example.Prefix.Where(t => t < 13).Distinct().Count());
    }
}
