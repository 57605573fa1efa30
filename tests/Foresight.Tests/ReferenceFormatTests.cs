using Foresight.Tasks;

namespace Foresight.Tests;

/// <summary>The reference code's line format, a,b|c,d|.../s,g=p1,...,pl, and its tokenizer.</summary>
public sealed class ReferenceFormatTests
{
    private static readonly PathStarTask Task = new(2, 5, 50);

    // Lines from the reference repository's deg_2_path_5_nodes_50 test file.
    private const string ReferenceLine = "32,3|16,12|3,19|32,34|34,6|6,16|19,47|47,28/32,12=32,34,6,16,12";
    private static readonly string[] ReferenceLines =
    [
        ReferenceLine,
        "17,12|22,28|49,17|9,24|49,9|13,7|12,22|24,13/49,7=49,9,24,13,7",
        "13,36|30,11|7,12|7,13|12,30|16,34|11,1|36,16/7,1=7,12,30,11,1",
    ];

    [Fact]
    public void Reference_line_tokenizes_like_the_reference_tokenizer()
    {
        var example = Task.Parse(ReferenceLine);
        int bar = 50, eq = 51, slash = 52;
        Assert.Equal(
            [32, 3, bar, 16, 12, bar, 3, 19, bar, 32, 34, bar, 34, 6, bar, 6, 16, bar, 19, 47, bar, 47, 28, slash, 32, 12, eq],
            example.Prefix);
        Assert.Equal([32, 34, 6, 16, 12], example.Target);
    }

    [Fact]
    public void Reference_lines_round_trip_unchanged()
    {
        foreach (string line in ReferenceLines) Assert.Equal(line, Task.Format(Task.Parse(line)));
    }

    [Fact]
    public void Generated_examples_round_trip_through_text()
    {
        var random = SeededRandom.For(5, "test");
        for (int i = 0; i < 100; i++)
        {
            var example = Task.Generate(random);
            var parsed = Task.Parse(Task.Format(example));
            Assert.Equal(example.Prefix, parsed.Prefix);
            Assert.Equal(example.Target, parsed.Target);
        }
    }

    [Theory]
    [InlineData("32,3|16,12|3,19|32,34|34,6|6,16|19,47/32,12=32,34,6,16,12", "expected 8 edges for G(2,5,50), found 7")]
    [InlineData("32,3|16,12|3,19|32,34|34,6|6,16|19,47|47,28/32,12=32,34,6,16", "expected a path of 5 nodes for G(2,5,50), found 4")]
    [InlineData("32,3|16,12|3,19|32,34|34,6|6,16|19,47|47,28/32,12", "expected exactly one '=' between the graph and the path, found 0")]
    [InlineData("32,3|16,12|3,19|32,34|34,6|6,16|19,47|47,28=32,34,6,16,12", "expected exactly one '/'")]
    [InlineData("32,x|16,12|3,19|32,34|34,6|6,16|19,47|47,28/32,12=32,34,6,16,12", "edge 1: 'x' is not a node label")]
    [InlineData("32,3|16,12|3,19|32,34|34,6|6,16|19,47|47,99/32,12=32,34,6,16,12", "node 99 is outside 0..49")]
    [InlineData("32,3|16,12|3,19|32,34|34,6|6,16|19,47|47,28/32,12=32,34,6,47,12", "the path step 6->47 is not an edge of the graph")]
    [InlineData("32,3|16,12|3,19|32,34|34,6|6,16|19,47|47,28/32,28=32,34,6,16,12", "the path runs 32..12 but the query asks for 32..28")]
    [InlineData("32,3,5|16,12|3,19|32,34|34,6|6,16|19,47|47,28/32,12=32,34,6,16,12", "edge 1 '32,3,5' is not a pair")]
    public void Malformed_lines_say_what_is_wrong(string line, string message)
    {
        var error = Assert.Throws<FormatException>(() => Task.Parse(line));
        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Data_file_errors_name_the_file_and_line()
    {
        string file = Path.Combine(Path.GetTempPath(), $"foresight-{Guid.NewGuid():N}.txt");
        File.WriteAllLines(file, [ReferenceLines[0], ReferenceLines[1], "32,3|16,12/32,12=32,34"]);
        try
        {
            var error = Assert.ThrowsAny<UserError>(() => TaskFile.Read(Task, file));
            Assert.StartsWith($"{file}:3: expected 8 edges", error.Message);
        }
        finally { File.Delete(file); }
    }

    [Fact]
    public void Writing_refuses_to_overwrite_and_reading_gets_back_what_was_written()
    {
        string file = Path.Combine(Path.GetTempPath(), $"foresight-{Guid.NewGuid():N}.txt");
        try
        {
            var examples = ReferenceLines.Select(Task.Parse).ToList();
            TaskFile.Write(Task, examples, file);
            Assert.Equal(ReferenceLines, File.ReadAllLines(file));
            Assert.ThrowsAny<UserError>(() => TaskFile.Write(Task, examples, file));
            Assert.Equal(ReferenceLines, File.ReadAllLines(file));
            Assert.Equal(examples.Select(e => e.Target), TaskFile.Read(Task, file).Select(e => e.Target));
        }
        finally { File.Delete(file); }
    }
}
