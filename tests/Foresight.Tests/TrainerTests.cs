using System.Text.Json.Nodes;
using Foresight.Models;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;
using static TorchSharp.torch;

namespace Foresight.Tests;

public sealed class TrainerTests
{
    private static readonly PathStarTask Task = new(2, 4, 20);
    private static readonly ModelSize Tiny = new(Layers: 1, Width: 32, Heads: 2);
    private static readonly TrainingConfig Short = new(TrainSamples: 1024, TestSamples: 128, BatchSize: 64, WarmupSteps: 4, EvalEvery: 8, EvalSamples: 64, Seed: 3);

    private static RunResult Train(string method, string directory, TrainingConfig? config = null)
    {
        var runConfig = new RunConfig(method, Task.Spec, Tiny, config ?? Short);
        var (train, test) = Trainer.MakeData(Task, runConfig.Training);
        using (train)
        using (test)
            return Trainer.Train(runConfig, train, test, RunDirectory.Create(directory));
    }

    [Fact]
    public void Weight_decay_shrinks_weight_matrices_only_unless_a_config_asks_for_all()
    {
        manual_seed(0);
        using var method = Methods.MethodRegistry.Create("ntp", new Methods.MethodContext(Task, Tiny));
        var names = method.Model.named_parameters().ToDictionary(p => p.parameter.Handle, p => p.name);
        using var optimizer = Trainer.Optimizer(method.Model, Short);
        var groups = optimizer.ParamGroups.Cast<TorchSharp.Modules.AdamW.ParamGroup>().ToList();
        Assert.Equal(2, groups.Count);
        var decayed = groups[0].Parameters.Select(p => names[p.Handle]).ToList();
        var kept = groups[1].Parameters.Select(p => names[p.Handle]).ToList();
        Assert.Equal(Short.WeightDecay, groups[0].Options.weight_decay);
        Assert.Equal(0, groups[1].Options.weight_decay);
        Assert.Contains("token_embedding.weight", decayed);
        Assert.Contains(decayed, n => n.EndsWith("qkv.weight"));
        Assert.Contains("position_embedding.weight", kept);
        Assert.Contains(kept, n => n.EndsWith(".bias"));
        Assert.Contains(kept, n => n.Contains("norm"));
        Assert.Equal(names.Count, decayed.Count + kept.Count);

        using var all = Trainer.Optimizer(method.Model, Short with { WeightDecayOn = WeightDecayOn.All });
        Assert.Single(all.ParamGroups);
    }

    [Fact]
    public void Same_seed_gives_identical_metrics()
    {
        using var temp = new TempDirectory();
        var first = Train("ntp", temp["a"]);
        var second = Train("ntp", temp["b"]);

        Assert.Equal(first.Training.FinalTrainLoss, second.Training.FinalTrainLoss);
        Assert.Equal(first.Test.ExactMatch, second.Test.ExactMatch);
        Assert.Equal(first.Test.TeacherForcedPerPosition, second.Test.TeacherForcedPerPosition);
        static IEnumerable<string> Losses(string dir) =>
            File.ReadLines(Path.Combine(dir, "metrics.jsonl")).Select(l => JsonNode.Parse(l)!["train_loss"]!.ToJsonString());
        Assert.Equal(Losses(temp["a"]), Losses(temp["b"]));
    }

    [Fact]
    public void Another_seed_gives_another_run()
    {
        using var temp = new TempDirectory();
        var first = Train("ntp", temp["a"]);
        var second = Train("ntp", temp["b"], Short with { Seed = 4 });
        Assert.NotEqual(first.Training.FinalTrainLoss, second.Training.FinalTrainLoss);
    }

    [Fact]
    public void Run_directory_holds_config_metrics_summary_and_checkpoint()
    {
        using var temp = new TempDirectory();
        var result = Train("reverse", temp["run"]);
        var run = RunDirectory.Open(temp["run"]);

        Assert.Equal(new RunConfig("reverse", Task.Spec, Tiny, Short).Training, run.ReadConfig().Training);
        // Periodic evaluations before the last step, then the final one on the whole test set.
        Assert.Equal(16, Short.TotalSteps);
        Assert.Equal(2, File.ReadLines(run.MetricsFile).Count());
        var summary = run.ReadSummary();
        foreach (string key in new[] { "method", "exact_match", "first_decision_accuracy", "per_position_accuracy", "train_seconds", "tokens_per_second", "samples_seen" })
            Assert.True(summary.ContainsKey(key), $"summary.json lacks {key}");
        Assert.Equal(Short.TrainSamples, summary["samples_seen"]!.GetValue<long>());
        Assert.Equal(result.Test.ExactMatch, summary["exact_match"]!.GetValue<double>());
        Assert.True(File.Exists(run.CheckpointFile));

        // Every evaluation also scores the first eval_samples training graphs, the ones the run trained on.
        Assert.All(run.ReadEvaluations(), line => Assert.Equal(Short.EvalSamples, line.TrainSet!.Examples));
        var (_, _, trained) = Trainer.LoadTrained(run);
        using (trained)
        using (var train = Trainer.MakeTrainingSet(Task, Short))
        {
            var direct = Evaluation.Evaluator.Evaluate(trained, Task, train, Short.EvalSamples);
            var recorded = run.ReadResult().TrainSet!;
            Assert.Equal((direct.Examples, direct.ExactMatch, direct.FirstDecisionAccuracy), (recorded.Examples, recorded.ExactMatch, recorded.FirstDecisionAccuracy));
            Assert.Equal(direct.PerPositionAccuracy, recorded.PerPositionAccuracy);
        }
        Assert.Equal(result.TrainSet!.ExactMatch, summary["train_set"]!["exact_match"]!.GetValue<double>());
        Assert.Null(run.ReadResult().Convergence); // two evaluations: too few for the rule over the last three
    }

    [Fact]
    public void Checkpoint_restores_the_same_predictions()
    {
        using var temp = new TempDirectory();
        Train("ntp", temp["run"]);
        var run = RunDirectory.Open(temp["run"]);
        var config = run.ReadConfig();
        using var test = Trainer.MakeTestSet(Task, config.Training);

        // Initialised from another seed, so only the checkpoint can bring back the trained model's scores.
        using var restored = Trainer.BuildMethod(config with { Training = config.Training with { Seed = 99 } });
        var before = Evaluation.Evaluator.Evaluate(restored, Task, test);
        run.LoadCheckpoint(restored.Model);
        var after = Evaluation.Evaluator.Evaluate(restored, Task, test);
        double trained = run.ReadSummary()["teacher_forced_accuracy"]!.GetValue<double>();
        Assert.NotEqual(trained, before.TeacherForcedAccuracy);
        Assert.Equal(trained, after.TeacherForcedAccuracy, 12);
        Assert.Equal(run.ReadSummary()["exact_match"]!.GetValue<double>(), after.ExactMatch);
    }

    [Fact]
    public void Checkpoint_of_another_model_size_is_a_clear_error()
    {
        using var temp = new TempDirectory();
        Train("ntp", temp["run"]);
        var run = RunDirectory.Open(temp["run"]);
        var config = run.ReadConfig() with { Model = new ModelSize(1, 64, 2) };
        using var method = Trainer.BuildMethod(config);
        var error = Assert.ThrowsAny<UserError>(() => run.LoadCheckpoint(method.Model));
        Assert.Contains("does not fit this run's model", error.Message);
    }

    [Fact]
    public void Existing_run_is_never_overwritten()
    {
        using var temp = new TempDirectory();
        Directory.CreateDirectory(temp["run"]);
        File.WriteAllText(temp["run/notes.txt"], "keep me");
        var error = Assert.ThrowsAny<UserError>(() => RunDirectory.Create(temp["run"]));
        Assert.Contains("already exists and is not empty", error.Message);
        Assert.Equal("keep me", File.ReadAllText(temp["run/notes.txt"]));
    }

    [Fact]
    public void Resident_memory_stays_flat_across_steps()
    {
        using var temp = new TempDirectory();
        var config = Short with { TrainSamples = 64 * 300, EvalEvery = 1_000 };
        var runConfig = new RunConfig("ntp", Task.Spec, new ModelSize(2, 64, 2), config);
        var (train, test) = Trainer.MakeData(Task, runConfig.Training);
        long atStep30 = 0, atStep300 = 0;
        using (train)
        using (test)
            Trainer.Train(runConfig, train, test, RunDirectory.Create(temp["run"]), onStep: p =>
            {
                if (p.Step == 30) atStep30 = Environment.WorkingSet;
                if (p.Step == 300) atStep300 = Environment.WorkingSet;
            });
        Assert.True(atStep300 <= atStep30 * 1.10, $"RSS grew from {atStep30 >> 20} MiB at step 30 to {atStep300 >> 20} MiB at step 300");
    }

    [Fact]
    public void Diverging_loss_stops_training_with_a_clear_error()
    {
        using var temp = new TempDirectory();
        var error = Assert.ThrowsAny<UserError>(() => Train("ntp", temp["run"], Short with { LearningRate = 1e9, WarmupSteps = 0 }));
        Assert.Matches(@"^training diverged at step \d+: the loss is (NaN|∞|-∞|Infinity)", error.Message);
        Assert.EndsWith("Try a lower --lr", error.Message);
    }

    [Fact]
    public void Schedule_warms_up_linearly_then_decays_to_the_floor()
    {
        var config = new TrainingConfig(TrainSamples: 1000, BatchSize: 10, LearningRate: 1e-3, WarmupSteps: 10, MinLearningRateRatio: 0.1);
        Assert.Equal(100, config.TotalSteps);
        Assert.Equal(1e-4, config.LearningRateAt(0), 12);
        Assert.Equal(1e-3, config.LearningRateAt(9), 12);
        Assert.Equal(1e-3, config.LearningRateAt(10), 12);
        Assert.Equal(0.55e-3, config.LearningRateAt(55), 12); // halfway through the cosine
        Assert.Equal(1e-4, config.LearningRateAt(100), 12);
        for (int s = 10; s < 100; s++) Assert.True(config.LearningRateAt(s + 1) <= config.LearningRateAt(s));
    }

    [Theory]
    [InlineData(0, 256, 5e-4, "training.train_samples must be at least 1, got 0")]
    [InlineData(100, 0, 5e-4, "training.batch_size must be at least 1, got 0")]
    [InlineData(100, 256, -1.0, "training.learning_rate must be a positive number, got -1")]
    public void Bad_training_settings_are_clear_errors(int samples, int batch, double lr, string message)
    {
        var error = Assert.ThrowsAny<UserError>(() => new TrainingConfig(TrainSamples: samples, BatchSize: batch, LearningRate: lr).Validate());
        Assert.Equal(message, error.Message);
    }
}
