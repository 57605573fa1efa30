using System.CommandLine;
using Foresight.Probes;
using Foresight.Runs;
using Spectre.Console;

namespace Foresight.Cli;

internal static class ProbeCommand
{
    public static Command Create()
    {
        var command = new Command("probe", "Diagnostics of a saved run: why it fails or plans. Each writes probe-<name>.json into the run");
        foreach (var probe in ProbeSuite.All) command.Subcommands.Add(Probe(probe.Name, probe.Description, probe.TakesExamples));
        command.Subcommands.Add(Probe("all", "every probe that applies to the run's method", takesExamples: true));
        return command;
    }

    private static Command Probe(string name, string description, bool takesExamples)
    {
        var command = new Command(name, description);
        var runOption = new Option<string>("--run") { Description = "run directory", Required = true };
        var examples = new Option<int?>("--examples") { Description = $"fresh examples to probe on (default: clever-hans {new ProbeSizes().CleverHansExamples:N0}, plan {new ProbeSizes().PlanningExamples:N0})" };
        command.Options.Add(runOption);
        if (takesExamples) command.Options.Add(examples);
        command.SetAction(result =>
        {
            var run = RunDirectory.Open(result.GetValue(runOption)!);
            var sizes = new ProbeSizes();
            if (result.GetValue(examples) is { } count)
            {
                if (count < 2) throw new UserError($"--examples must be at least 2, got {count}");
                sizes = new ProbeSizes(count, count);
            }
            var config = run.ReadConfig();
            var written = ProbeSuite.Run(run, sizes, name == "all" ? null : name, line => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(line)}[/]"));
            foreach (var (probe, value) in written) Print(ProbeSuite.All.Single(p => p.Name == probe), value, config.Method, config.Task.Build().Description);
            return 0;
        });
        return command;
    }

    private static void Print(IProbe probe, object result, string method, string task)
    {
        var described = probe.Describe(result);
        var table = new Table().Title($"{probe.Name}: {Markup.Escape(method)} on {Markup.Escape(task)}").AddColumn(Markup.Escape(described.Headers[0]));
        foreach (string header in described.Headers.Skip(1)) table.AddColumn(new TableColumn(Markup.Escape(header)).RightAligned());
        foreach (var row in described.Rows) table.AddRow([.. row.Select(Markup.Escape)]);
        if (described.Caption is { } caption) table.Caption(Markup.Escape(caption));
        AnsiConsole.Write(table);
    }
}
