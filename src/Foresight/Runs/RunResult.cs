using System.Text.Json;
using System.Text.Json.Nodes;
using Foresight.Evaluation;
using Foresight.Methods;

namespace Foresight.Runs;

/// <summary>How a run went, besides its test metrics.</summary>
public sealed record TrainingStats(
    string Method, string Task, long Parameters, int Steps, long SamplesSeen,
    double TrainSeconds, double TokensPerSecond, double FinalTrainLoss);

/// <summary>A finished run: summary.json is the training stats' and the test metrics' fields side by side, then the rest.</summary>
/// <param name="Options">The method's options behind <paramref name="Test"/> as it ran them (diffusion's step count resolved); null for a method without options.</param>
/// <param name="TrainSet">The same evaluation on a fixed sample of the training set (null in runs from before it existed).</param>
/// <param name="Convergence">Where training stood when it ended (null in runs from before the rule, or with too few evaluations).</param>
/// <param name="TestProblemsTrainedOn">Test examples whose problem the training set also asks: 0 since the training stream skips them; null for a
/// task whose prompts carry no problem (a constant prefix) and in runs from before it was counted.</param>
public sealed record RunResult(TrainingStats Training, EvalMetrics Test, IMethodOptions? Options = null, EvalMetrics? TrainSet = null, Convergence? Convergence = null,
    int? TestProblemsTrainedOn = null)
{
    public JsonObject ToJson()
    {
        var json = Json.Merge(Json.ToObject(Training), Json.ToObject(Test));
        if (Options is not null) json["options"] = MethodOptionSet.ToJson(Training.Method, Options);
        if (TrainSet is not null) json["train_set"] = Json.ToObject(TrainSet);
        if (Convergence is not null) json["convergence"] = Json.ToObject(Convergence);
        if (TestProblemsTrainedOn is { } overlap) json["test_problems_trained_on"] = overlap;
        return json;
    }

    /// <summary>A summary.json read back; older summaries (every method's options in one flat object) still load.</summary>
    public static RunResult FromJson(JsonObject json, string source)
    {
        try
        {
            var training = json.Deserialize<TrainingStats>(Json.File)!;
            var test = json.Deserialize<EvalMetrics>(Json.File)!;
            var options = json["options"] as JsonObject;
            bool legacy = MethodOptionSet.IsLegacy(options);
            return new RunResult(training, test, legacy ? MethodOptionSet.FromLegacyJson(training.Method, options) : MethodOptionSet.FromJson(training.Method, options),
                json["train_set"]?.Deserialize<EvalMetrics>(Json.File), ReadConvergence(json["convergence"] as JsonObject),
                json["test_problems_trained_on"]?.GetValue<int>());
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or ConfigError or ArgumentNullException or InvalidOperationException)
        {
            throw new UserError($"{source} is not a valid run summary: {e.Message}");
        }
    }

    /// <summary>A verdict, or the yes/no the rule gave before it had four answers ("converged": false read as still learning).</summary>
    private static Convergence? ReadConvergence(JsonObject? json) => json switch
    {
        null => null,
        _ when json["verdict"] is { } verdict => new Convergence(verdict.Deserialize<Verdict>(Json.File), json["reason"]?.GetValue<string>() ?? ""),
        _ => new Convergence(json["converged"]?.GetValue<bool>() == true ? Verdict.Converged : Verdict.StillLearning, json["reason"]?.GetValue<string>() ?? ""),
    };
}

/// <summary>One line of metrics.jsonl: where training was at an evaluation, and what it measured.</summary>
/// <param name="TrainLoss">Mean training loss since the previous evaluation.</param>
/// <param name="Metrics">On the test set (its first training.eval_samples graphs, the whole set at the end).</param>
/// <param name="TrainSet">On the first training.eval_samples graphs of the training set: the graphs the run trains on (null in older lines).</param>
public sealed record EvaluationLine(int Step, int Epoch, long SamplesSeen, double LearningRate, double TrainLoss, double TrainSeconds, EvalMetrics Metrics,
    EvalMetrics? TrainSet = null)
{
    /// <summary>The line flat, as metrics.jsonl holds it: the position fields, then the metrics'.</summary>
    public JsonObject ToJson() => Json.Merge(
        new JsonObject
        {
            ["step"] = Step,
            ["epoch"] = Epoch,
            ["samples_seen"] = SamplesSeen,
            ["learning_rate"] = LearningRate,
            ["train_loss"] = TrainLoss,
            ["train_seconds"] = TrainSeconds,
        },
        Json.ToObject(Metrics),
        TrainSet is null ? [] : new JsonObject { ["train_set"] = Json.ToObject(TrainSet) });

    public static EvaluationLine FromJson(JsonObject line, string source)
    {
        T Field<T>(string key) => line[key] is JsonValue value ? value.GetValue<T>() : throw new UserError($"{source}: an evaluation has no '{key}'");
        return new EvaluationLine(Field<int>("step"), Field<int>("epoch"), Field<long>("samples_seen"), Field<double>("learning_rate"),
            Field<double>("train_loss"), Field<double>("train_seconds"), line.Deserialize<EvalMetrics>(Json.File)!,
            line["train_set"]?.Deserialize<EvalMetrics>(Json.File));
    }
}
