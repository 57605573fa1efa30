using System.CommandLine;
using System.Text.Json.Nodes;
using Foresight.Evaluation;
using Foresight.Methods;
using Foresight.Presentation;
using Foresight.Reports;
using Foresight.Runs;
using Foresight.Search;
using Foresight.Tasks;
using Foresight.Training;
using Spectre.Console;

namespace Foresight.Cli;

internal static class EvalCommand
{
    public static Command Create()
    {
        var command = new Command("eval", "Evaluate a saved run on its test set or on a data file (the reference format)");
        var runOption = new Option<string>("--run") { Description = "run directory", Required = true };
        var data = new Option<string?>("--data") { Description = "data file, one example per line (default: the run's own test set)" };
        command.Options.Add(runOption);
        command.Options.Add(data);
        // Every option a method marks as a decoding choice, to decode a saved run another way: --diffusion-steps, ...
        var decodeTime = MethodRegistry.AllOptions().Where(o => o.DecodeTime).Select(spec =>
        {
            var option = DeclaredFlag.Create(spec.Flag, spec.ValueType == typeof(bool), $"{spec.Owner} runs: {spec.Help}, instead of the run's");
            command.Options.Add(option);
            return (Spec: spec, Option: option);
        }).ToList();
        var decode = new Option<string?>("--decode") { Description = "autoregressive runs: greedy, sample:K (best of K samples, the verifier picks) or backtrack (depth-first over the model's ranked tokens, the verifier prunes)" };
        var sampleTemperature = new Option<double>("--temperature") { Description = "sample:K: sampling temperature", DefaultValueFactory = _ => 1.0 };
        var budget = new Option<int>("--search-budget") { Description = "backtrack: model calls allowed per instance", DefaultValueFactory = _ => Backtracking.DefaultBudget };
        var limit = new Option<int?>("--examples") { Description = "evaluate the first K examples only" };
        command.Options.Add(decode);
        command.Options.Add(sampleTemperature);
        command.Options.Add(budget);
        command.Options.Add(limit);

        command.SetAction(result =>
        {
            var decoder = result.GetValue(decode) is { } decodeText
                ? SearchDecoding.Parse(decodeText, result.GetValue(sampleTemperature), result.GetValue(budget))
                : null;
            int examples = result.GetValue(limit) ?? int.MaxValue;
            if (examples < 1) throw new UserError($"--examples must be at least 1, got {examples}");
            var overrides = decodeTime.Where(o => TrainingOptions.Given(result, o.Option)).ToList();
            if (decoder is not null && overrides.Count > 0)
                throw new UserError($"--decode and {overrides[0].Spec.Flag} cannot be combined: --decode is for autoregressive runs");
            var run = RunDirectory.Open(result.GetValue(runOption)!);
            var saved = run.ReadConfig();
            string runMethod = saved.Method;
            var options = saved.MethodOptions;
            foreach (var (spec, option) in overrides)
            {
                if (spec.Owner != runMethod) throw new UserError($"{spec.Flag} applies to {spec.Owner} runs; this is a {runMethod} run");
                options = MethodOptionSet.With(runMethod, options!, spec, DeclaredFlag.Value(result, option, spec));
            }
            if (overrides.Count > 0) options = MethodOptionSet.Validated(runMethod, options!);
            var (config, task, method) = Trainer.LoadTrained(run, options);
            using var _ = method;
            string? file = result.GetValue(data);
            using var dataset = file is null
                ? Trainer.MakeTestSet(task, config.Training)
                : new TokenDataset(task, TaskFile.Read(task, file));

            // Which of the examples scored the run had trained on: none of its own test set's, any number of a file's
            // (the reference code's files included); its training set is drawn again from its config.
            using var train = Trainer.MakeTrainingSet(task, config.Training, file is null ? dataset : null); // the run's own test set is not drawn twice
            var scored = dataset.Slice(0, Math.Min(examples, dataset.Count)).Examples();
            int? trainedOn = Trainer.TrainedOn(task, train, scored);
            string source = file ?? "the run's test set";

            // eval-<data>[-<decoding>].json in the run directory, the numbers under the run's method, task and data.
            void Save(string decoding, JsonObject header, JsonObject numbers)
            {
                string output = Path.Combine(run.Path, $"eval-{(file is null ? "test" : Path.GetFileNameWithoutExtension(file))}{decoding}.json");
                var about = new JsonObject { ["method"] = config.Method, ["task"] = task.Description, ["data"] = file ?? "test" };
                if (trainedOn is { } n) about["trained_on"] = n;
                Json.WriteAtomic(output, Json.Merge(about, header, numbers));
                if (trainedOn is { } count)
                    AnsiConsole.MarkupLine($"{count:N0} of the {scored.Count:N0} examples scored ask a problem the run trained on" +
                        (count > 0 ? $" ({100.0 * count / scored.Count:F1}%): their score is partly memory" : ""));
                AnsiConsole.MarkupLine($"wrote {Markup.Escape(output)}");
            }
            static string Number(double value) => value.ToString(System.Globalization.CultureInfo.InvariantCulture);

            if (decoder is not null)
            {
                var searched = SearchDecoding.Evaluate(method, task, dataset, decoder, examples);
                PrintSearch(config.Method, task, source, searched);
                Save($"-{decoder.Name}" + (decoder is VerifiedSampling s ? $"-t{Number(s.Temperature)}" : ""), [], Json.ToObject(searched));
                return 0;
            }

            var metrics = Evaluator.Evaluate(method, task, dataset, examples, memory: Trainer.Memory(task, train));
            Print(config.Method, task, source, metrics);
            Save(overrides.Count == 0 ? "" : "-" + string.Join("-", overrides.Select(o => $"{o.Spec.Name.Replace('_', '-')}-{OptionSpec.Text(o.Spec.ValueOf(options!))}")),
                options is null ? [] : new JsonObject { ["options"] = MethodOptionSet.ToJson(config.Method, options) }, Json.ToObject(metrics));
            return 0;
        });
        return command;
    }

    private static void PrintSearch(string method, ITask task, string source, SearchMetrics m)
    {
        var table = new Table().Title($"{Markup.Escape(method)} on {Markup.Escape(task.Description)}, --decode {Markup.Escape(m.Decode)}: {Markup.Escape(source)} ({m.Examples:N0} examples)")
            .AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("exact match", Markup.Escape(Format.Proportion(m.ExactMatch, m.Examples)));
        table.AddRow("verifier accepted", $"{100 * m.VerifierAccepted:F1}%");
        table.AddRow("tokens written per instance", $"{m.TokensPerInstance:F2}");
        table.AddRow("model calls per instance", $"{m.ModelCallsPerInstance:F2}");
        if (m.SampleAcceptance is { } acceptance) table.AddRow("samples accepted (pass@1)", $"{100 * acceptance:F1}%");
        AnsiConsole.Write(table);
    }

    private static void Print(string method, ITask task, string source, EvalMetrics m)
    {
        var table = new Table().Title($"{Markup.Escape(method)} on {Markup.Escape(task.Description)}: {Markup.Escape(source)} ({m.Examples:N0} examples)")
            .AddColumn("metric").AddColumn(new TableColumn("value").RightAligned());
        table.AddRow("exact match", Markup.Escape(Format.Proportion(m.ExactMatch, m.Examples)));
        if (m.Creativity is null) // an open-ended answer has no one hard token: every token is a choice among right ones
            table.AddRow("first decision", $"{100 * m.FirstDecisionAccuracy:F1}% (chance {100 * m.FirstDecisionChance:F1}%)");
        table.AddRow("teacher-forced", $"{100 * m.TeacherForcedAccuracy:F1}%");
        table.AddRow("per position", string.Join("  ", m.PerPositionAccuracy.Select(a => $"{100 * a:F1}")));
        table.AddRow("teacher-forced per position", string.Join("  ", m.TeacherForcedPerPosition.Select(a => $"{100 * a:F1}")));
        if (m.Creativity is { } c)
        {
            table.AddRow($"creativity ({c.Samples:N0} answers, {Markup.Escape(c.Prefix)} prefix, temperature {c.Temperature:0.##})", $"{100 * c.Creativity:F1}%");
            table.AddRow("coherent / unique / original", $"{100 * c.Coherence:F1}% / {100 * c.Uniqueness:F1}% / {100 * c.Originality:F1}%");
            if (c.PaperCreativity is { } theirs)
            {
                table.AddRow("creativity by Nagarajan et al.'s eval_qa.py", $"{100 * theirs:F1}%");
                table.AddRow("coherent answers not in training (base rate)", $"{100 * c.CoherentOriginality ?? double.NaN:F1}% (training holds {100 * c.BaseRate:F1}% of all)");
                table.AddRow("a sampler of the training data (ours / theirs)", $"{100 * c.DataCreativity:F1}% / {100 * c.DataPaperCreativity:F1}%");
                table.AddRow("the most any sampler could score", $"{100 * c.Ceiling:F1}%");
            }
        }
        AnsiConsole.Write(table);
    }
}
