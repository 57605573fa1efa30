using System.CommandLine;
using System.CommandLine.Help;
using Foresight;
using Foresight.Cli;

var root = CommandTree.Root();

// Logs and pipes have no width; wrapping the comparison tables at 80 columns would make them unreadable.
if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Width = 200;

var parsed = root.Parse(args.Length == 0 ? ["--help"] : args);
if (parsed.Errors.Count > 0)
{
    // A misspelt subcommand also leaves "required command was not provided"; the misspelling is the useful error.
    var error = parsed.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized")) ?? parsed.Errors[0];
    var names = new List<string>();
    for (Command? command = parsed.CommandResult.Command; command is not null; command = command.Parents.OfType<Command>().FirstOrDefault())
        names.Insert(0, command.Name);
    string path = string.Join(' ', names);
    Console.Error.WriteLine($"error: {error.Message} (see '{path} --help')");
    return 2;
}

StopSignals.Register();
GcStress.StartIfAsked();
try
{
    return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
}
catch (Foresight.Training.TrainingInterrupted e)
{
    // Not an error: stopped as asked, nothing lost; exit 75 says "try again" to whoever sent the signal (a Slurm script requeues)
    Console.Error.WriteLine($"{e.Message}; 'foresight train --resume {e.Run}' goes on from there (compare, curve and run: the same command)");
    return StopSignals.ExitCode;
}
catch (ConfigError e)
{
    Console.Error.WriteLine($"error: {FieldFlags.InFlags(e.Message)}");
    return 2;
}
catch (UserError e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
catch (Exception e) when (StorageFailure.Is(e))
{
    Console.Error.WriteLine(StorageFailure.Line(e));
    return StorageFailure.ExitCode;
}
catch (Exception e)
{
    Console.Error.WriteLine(CrashLog.Write(e, args));
    return 1;
}
