using System.CommandLine;
using Foresight.Reports;
using Spectre.Console;

namespace Foresight.Cli;

internal static class ReportCommand
{
    public static Command Create()
    {
        var command = new Command("report", "Write report.md and PNG figures (accuracy vs samples, per position, probe per layer) for some runs");
        var runs = new Option<string[]>("--runs") { Description = "run directories, or directories holding runs (a comparison, a grid)", Required = true, AllowMultipleArgumentsPerToken = true };
        var output = new Option<string?>("--out") { Description = "where to write (default: the one directory given, else runs/report-<time>)" };
        var overwrite = new Option<bool>("--overwrite") { Description = "replace an existing report.md and figures" };
        var axis = new Option<string>("--x-axis")
        {
            Description = "training curves against samples (samples seen) or iterations (optimizer steps; runs of one batch size)",
            DefaultValueFactory = _ => "samples",
        };
        command.Options.Add(runs);
        command.Options.Add(output);
        command.Options.Add(overwrite);
        command.Options.Add(axis);
        command.SetAction(result =>
        {
            string[] paths = result.GetValue(runs)!;
            var found = ReportRun.Find(paths);
            string directory = result.GetValue(output) ?? (paths.Length == 1 ? paths[0] : OutputPaths.Default("report"));
            Write(found, directory, result.GetValue(overwrite), TrainingOptions.ParseFlag<CurveAxis>("--x-axis", result.GetValue(axis)!));
            return 0;
        });
        return command;
    }

    public static void Write(IReadOnlyList<ReportRun> runs, string directory, bool overwrite, CurveAxis axis = CurveAxis.Samples)
    {
        foreach (string file in Report.Write(runs, directory, overwrite, axis))
            AnsiConsole.MarkupLine($"wrote {Markup.Escape(file)}");
    }
}
