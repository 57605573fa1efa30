using Foresight.Cli;
using Foresight.Runs;

namespace Foresight.Tests;

/// <summary>Files written whole or not at all, what a refused write leaves, and how it is reported.</summary>
public sealed class AtomicFileTests
{
    [Fact]
    public void A_failed_write_keeps_the_old_file_and_leaves_no_temporary_file()
    {
        using var temp = new TempDirectory();
        string file = temp["summary.json"];
        AtomicFile.WriteText(file, "old");
        var error = Assert.Throws<IOException>(() => AtomicFile.WriteStream(file, stream =>
        {
            stream.Write("half a new fi"u8);
            throw new IOException("No space left on device", 28);
        }));
        Assert.Equal(28, error.HResult);
        Assert.Equal("old", File.ReadAllText(file));
        Assert.Equal([file], Directory.GetFiles(temp.Path));

        AtomicFile.WriteText(file, "new");
        Assert.Equal("new", File.ReadAllText(file));
        Assert.Equal([file], Directory.GetFiles(temp.Path));
    }

    [Fact]
    public void Resume_drops_a_metrics_line_left_unfinished_and_the_lines_after_the_checkpoint()
    {
        using var temp = new TempDirectory();
        var run = RunDirectory.Create(temp["run"]);
        File.WriteAllText(run.MetricsFile, "{\"step\":8,\"x\":1}\n{\"step\":16,\"x\":2}\n{\"step\":24,\"x\":3}\n{\"step\":32,\"x");
        run.DropMetricsAfter(16);
        Assert.Equal("{\"step\":8,\"x\":1}\n{\"step\":16,\"x\":2}\n", File.ReadAllText(run.MetricsFile));
        Assert.Equal([run.MetricsFile], Directory.GetFiles(run.Path));
    }

    [Theory]
    [InlineData(28, true)] // ENOSPC
    [InlineData(30, true)] // EROFS
    [InlineData(122, true)] // EDQUOT
    [InlineData(5, false)] // EIO: the disk itself failing is not a full one
    public void A_write_the_file_system_refused_is_told_from_a_bug(int errno, bool refused) =>
        Assert.Equal(refused, StorageFailure.Is(new IOException("message", errno)));

    [Fact]
    public void A_file_dotnet_could_not_preallocate_and_a_denied_write_are_refused_writes_too()
    {
        Assert.True(StorageFailure.Is(new IOException("Failed to create '/x/comparison.json.1.tmp' with allocation size '26049' because the disk was full.")));
        Assert.True(StorageFailure.Is(new UnauthorizedAccessException("Access to the path '/x' is denied.")));
        Assert.False(StorageFailure.Is(new FileNotFoundException("Could not find file '/x'")));
        Assert.False(StorageFailure.Is(new InvalidOperationException("disk was full.")));
        Assert.Matches(@"^error: the file system refused a write \(No space left on device : '/x/model\.pt\.1\.tmp'\); everything written before is intact: .* run the same command again",
            StorageFailure.Line(new IOException("No space left on device : '/x/model.pt.1.tmp'", 28)));
    }
}
