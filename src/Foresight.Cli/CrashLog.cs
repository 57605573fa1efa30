namespace Foresight.Cli;

/// <summary>A bug, not a mistake of the user's: one line for the terminal, the whole stack trace in a file to attach to a report.</summary>
internal static class CrashLog
{
    /// <summary>Writes the exception and the command line to a log file under the temporary directory; returns the line to print.</summary>
    public static string Write(Exception e, IReadOnlyList<string> args)
    {
        string log = Path.Combine(Path.GetTempPath(), $"foresight-crash-{DateTime.Now:yyyyMMdd-HHmmss}-{Environment.ProcessId}.log");
        File.WriteAllText(log, $"foresight {string.Join(' ', args)}\n{e}\n");
        return $"error: unexpected {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")} (stack trace in {log})";
    }
}
