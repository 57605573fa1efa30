using System.Diagnostics;
using Foresight.Presentation;
using Foresight.Reports;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;
using Spectre.Console;

namespace Foresight.Cli;

/// <summary>Runs the trainer with a live progress bar (ETA included), or plain lines when output is not a terminal.</summary>
internal static class TrainingView
{
    /// <summary>Trains (or resumes) a run on the data its config describes.</summary>
    public static RunResult Train(RunConfig config, RunDirectory run, bool resume = false)
    {
        var (train, test) = Trainer.MakeData(config.Task.Build(), config.Training);
        using (train)
        using (test)
            return Train(config, train, test, run, resume);
    }

    public static RunResult Train(RunConfig config, TokenDataset train, TokenDataset test, RunDirectory run, bool resume = false)
    {
        var task = config.Task.Build();
        string label = config.Method;
        if (config.Model.Backbone == Models.BackboneKind.Mamba)
        {
            int length = task.PrefixLength + task.TargetLength - 1;
            var mamba = config.Model.ToMamba(task, length);
            AnsiConsole.MarkupLine($"[grey]{label}: Mamba backbone, {mamba.Parameters:N0} parameters (inner width {mamba.InnerWidth}, state {mamba.StateSize}); " +
                                   $"a GPT of {config.Model.Layers} x {config.Model.Width}: {config.Model.GptParameters(task.VocabularySize, length):N0}[/]");
        }
        if (!AnsiConsole.Profile.Capabilities.Interactive) return TrainPlain(config, train, test, run, label, resume);

        RunResult? result = null;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(context =>
            {
                var bar = context.AddTask(label, maxValue: config.Training.TotalSteps);
                string lastEval = "";
                result = Trainer.Train(config, train, test, run,
                    onStep: p =>
                    {
                        bar.Value = p.Step;
                        bar.Description = $"{label,-12} loss {p.Loss:F3}{lastEval}";
                    },
                    onEvaluation: line => lastEval = $"  {Scores(line.Metrics)}",
                    resume: resume, interrupt: StopSignals.Token);
                bar.Description = $"{label,-12} done{lastEval}";
            });
        return result!;
    }

    private static RunResult TrainPlain(RunConfig config, TokenDataset train, TokenDataset test, RunDirectory run, string label, bool resume)
    {
        var wall = Stopwatch.StartNew();
        int total = config.Training.TotalSteps;
        int firstStep = -1;
        Console.WriteLine($"{label}: {(resume ? "resuming" : "training")} {total} steps on {config.Task.Build().Description} -> {run.Path}");
        return Trainer.Train(config, train, test, run, resume: resume, interrupt: StopSignals.Token, onStep: p => { if (firstStep < 0) firstStep = p.Step - 1; }, onEvaluation: line =>
        {
            int step = line.Step;
            var eta = TimeSpan.FromSeconds(wall.Elapsed.TotalSeconds / Math.Max(1, step - firstStep) * (total - step));
            Console.WriteLine($"{label}: step {step}/{total} ({100.0 * step / total:F0}%)  loss {line.TrainLoss:F3}  " +
                              $"{Scores(line.Metrics)}  eta {Clock(eta)}");
        });
    }

    /// <summary>m:ss, or h:mm:ss from an hour on.</summary>
    private static string Clock(TimeSpan span) =>
        span.TotalHours >= 1 ? $"{(int)span.TotalHours}:{span:mm\\:ss}" : $"{(int)span.TotalMinutes}:{span:ss}";

    /// <summary>What an evaluation line shows: exact match and the first decision, or an open-ended task's creativity and coherence.</summary>
    private static string Scores(Foresight.Evaluation.EvalMetrics m) => m.Creativity is { } c
        ? $"creativity {Format.Percent(c.Creativity)}  coherent {Format.Percent(c.Coherence)}"
        : $"exact {Format.Percent(m.ExactMatch)}  first {Format.Percent(m.FirstDecisionAccuracy)}";
}
