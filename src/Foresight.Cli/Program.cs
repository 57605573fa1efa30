using System.CommandLine;
using Foresight;
using Foresight.Cli;

var root = new RootCommand("Foresight: does next-token prediction limit what models can learn?")
{
    TrainCommand.Create(),
    CompareCommand.Create(),
    RunCommand.Create(),
    EvalCommand.Create(),
    DataCommand.Create(),
    ExportCommand.Create(),
    RunsCommand.Create(),
    ProbeCommand.Create(),
};

var parsed = root.Parse(args);
if (parsed.Errors.Count > 0)
{
    Console.Error.WriteLine($"error: {parsed.Errors[0].Message} (see 'foresight {parsed.CommandResult.Command.Name} --help')");
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
