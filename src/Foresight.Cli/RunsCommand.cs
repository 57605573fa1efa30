using System.CommandLine;
using Foresight.Runs;
using Spectre.Console;

namespace Foresight.Cli;

internal static class RunsCommand
{
    public static Command Create()
    {
        var root = new Option<string>("--root") { Description = "directory holding the runs", DefaultValueFactory = _ => "runs" };
        var filters = new Option<string[]>("--filter") { Description = $"key=value, repeatable; keys: {string.Join(", ", RunStore.FilterKeys)}", AllowMultipleArgumentsPerToken = false };

        var list = new Command("list", "List the runs under --root with their status and scores");
        list.Options.Add(root);
        list.Options.Add(filters);
        list.SetAction(result =>
        {
            var runs = RunStore.Filter(RunStore.List(result.GetValue(root)!), result.GetValue(filters) ?? []);
            var table = new Table().AddColumn(new TableColumn("id").NoWrap()).AddColumn(new TableColumn("method").NoWrap())
                .AddColumn(new TableColumn("task").NoWrap()).AddColumn(new TableColumn("seed").RightAligned())
                .AddColumn("status").AddColumn(new TableColumn("steps").RightAligned()).AddColumn(new TableColumn("exact").RightAligned())
                .AddColumn(new TableColumn("first dec.").RightAligned());
            foreach (var r in runs)
                table.AddRow(Markup.Escape(r.Id), Markup.Escape(r.Method), Markup.Escape(r.Task), r.Seed.ToString(), r.Status, r.Steps.ToString(),
                    r.ExactMatch is { } e ? $"{100 * e:F1}%" : "-", r.FirstDecisionAccuracy is { } f ? $"{100 * f:F1}%" : "-");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"[grey]{runs.Count} run(s)[/]");
            return 0;
        });

        var id = new Argument<string>("id") { Description = "run id as 'runs list' shows it, or a run directory" };
        var show = new Command("show", "Show one run's config, summary and last evaluation");
        show.Options.Add(root);
        show.Arguments.Add(id);
        show.SetAction(result =>
        {
            var run = RunStore.Find(result.GetValue(root)!, result.GetValue(id)!);
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(run.Path)}[/]");
            AnsiConsole.WriteLine(File.ReadAllText(run.ConfigFile).TrimEnd());
            if (File.Exists(run.SummaryFile)) AnsiConsole.WriteLine(File.ReadAllText(run.SummaryFile).TrimEnd());
            else if (File.Exists(run.MetricsFile) && File.ReadLines(run.MetricsFile).LastOrDefault() is { } last)
                AnsiConsole.WriteLine($"not finished; last evaluation: {last}");
            else AnsiConsole.WriteLine("not finished; no evaluation yet");
            return 0;
        });

        return new Command("runs", "Inspect the run directories") { list, show };
    }
}
