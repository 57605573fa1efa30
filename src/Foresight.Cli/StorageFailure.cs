namespace Foresight.Cli;

/// <summary>
/// A write the file system refused (no space, read-only, quota, permission): the machine's state, not a bug of ours, and
/// nothing written before it is lost (every file is written whole or not at all), so it gets one line and its own exit code.
/// </summary>
internal static class StorageFailure
{
    /// <summary>EX_IOERR.</summary>
    public const int ExitCode = 74;

    private const int NoSpace = 28, ReadOnly = 30, OverQuota = 122; // Linux errno, which .NET keeps as the IOException's HResult

    /// <summary>
    /// .NET reports a file it could not preallocate (File.WriteAllText does) with no errno, only its message
    /// ("Failed to create '...' with allocation size '...' because the disk was full.").
    /// </summary>
    public static bool Is(Exception e) =>
        e is UnauthorizedAccessException or IOException { HResult: NoSpace or ReadOnly or OverQuota }
        || e is IOException && e.Message.EndsWith("because the disk was full.", StringComparison.Ordinal);

    public static string Line(Exception e) =>
        $"error: the file system refused a write ({e.Message.ReplaceLineEndings(" ").TrimEnd('.')}); everything written before is intact: " +
        "free space or restore write access, then run the same command again to go on (a single run: foresight train --resume RUN)";
}
