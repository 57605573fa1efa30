using System.CommandLine;

namespace Foresight.Cli;

/// <summary>Every command of the program, as it parses them; docs/cli.md documents each (a test checks every flag is there).</summary>
internal static class CommandTree
{
    /// <summary>
    /// A plain command named "foresight" as the root, so usage lines and hints say what the user types
    /// (a RootCommand takes its name from the executable, Foresight.Cli).
    /// </summary>
    public static Command Root() => new("foresight", "Foresight: does next-token prediction limit what models can learn?")
    {
        new System.CommandLine.Help.HelpOption(),
        new VersionOption(),
        TrainCommand.Create(),
        CompareCommand.Create(),
        RunCommand.Create(),
        CurveCommand.Create(),
        BenchCommand.Create(),
        EvalCommand.Create(),
        DataCommand.Create(),
        ExportCommand.Create(),
        RunsCommand.Create(),
        ProbeCommand.Create(),
        ReportCommand.Create(),
    };
}
