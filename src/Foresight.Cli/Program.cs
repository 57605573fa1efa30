using System.CommandLine;
using Foresight;
using Foresight.Cli;

var root = new RootCommand("Foresight: does next-token prediction limit what models can learn?")
{
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

// Logs and pipes have no width; wrapping the comparison tables at 80 columns would make them unreadable.
if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 200;

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    // A misspelt subcommand also leaves "required command was not provided"; the misspelling is the useful error.
    var error = parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized")) ?? parsed.Errors[0];
    Console.Error.WriteLine($"error: {error.Message} (see 'foresight {parsed.CommandResult.Command.Name} --help')");
    return 2;
}

try
{
    return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (UserError e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
