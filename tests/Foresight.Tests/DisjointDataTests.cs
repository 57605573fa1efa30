using System.Text.Json.Nodes;
using Foresight.Runs;
using Foresight.Tasks;
using Foresight.Training;

namespace Foresight.Tests;

/// <summary>A run's test problems are never trained on: each task's problem identity, its problem count, and the training stream that skips them.</summary>
public sealed class DisjointDataTests
{
    private static readonly TrainingConfig Small = new(TrainSamples: 20_000, TestSamples: 1_000, Seed: 3);

    public static TheoryData<string> Tasks() => [.. TaskRegistry.Names];

    [Theory]
    [MemberData(nameof(Tasks))]
    public void A_new_run_of_every_task_trains_on_none_of_its_test_problems(string name)
    {
        var task = new TaskSpec(name).Build();
        var (train, test) = Trainer.MakeData(task, Small);
        using (train)
        using (test)
        {
            int? overlap = Trainer.TrainedOn(task, train, test.Examples());
            if (task is IOpenEndedTask { Prefix: PrefixMode.Null }) Assert.Null(overlap); // one constant prompt: originality counts instead
            else Assert.Equal(0, overlap);
        }
    }

    [Fact]
    public void Small_task_spaces_overlapped_before_and_do_not_now_and_the_test_set_is_the_same_problems()
    {
        // The audit's measurement: chains of 4 have 161,280 problems, so 50,000 training draws hold about a quarter of 2,000 test problems.
        var task = new MinimalPlanningTask(4);
        var config = new TrainingConfig(TrainSamples: 50_000, TestSamples: 2_000, Seed: 1);
        var (train, test) = Trainer.MakeData(task, config with { TestSet = TestSetDraw.Independent });
        var (disjointTrain, disjointTest) = Trainer.MakeData(task, config);
        using (train) using (test) using (disjointTrain) using (disjointTest)
        {
            int before = Trainer.TrainedOn(task, train, test.Examples())!.Value;
            Assert.InRange(before / 2_000.0, 0.20, 0.34); // 1 - exp(-50,000 / 161,280) = 27%
            Assert.Equal(0, Trainer.TrainedOn(task, disjointTrain, disjointTest.Examples()));
            Assert.Equal(test.Examples().Select(task.Format), disjointTest.Examples().Select(task.Format));
            Assert.Equal(50_000, disjointTrain.Count);
        }
    }

    [Fact]
    public void A_path_star_training_set_with_no_collision_is_the_one_independent_streams_drew()
    {
        // G(2,5,50) has 9.1 x 10^14 problems: the default compare's data did not change.
        var task = new PathStarTask(2, 5, 50);
        var config = new TrainingConfig(TrainSamples: 20_000, TestSamples: 1_000);
        using var disjoint = Trainer.MakeTrainingSet(task, config);
        using var independent = Trainer.MakeTrainingSet(task, config with { TestSet = TestSetDraw.Independent });
        Assert.Equal(independent.Examples().Select(task.Format), disjoint.Examples().Select(task.Format));
    }

    [Fact]
    public void A_problem_is_the_same_whatever_order_its_edges_are_written_in()
    {
        var star = new PathStarTask(2, 3, 10);
        var a = star.Parse("1,2|0,1|0,3|3,4/0,2=0,1,2");
        Assert.Equal(star.ProblemKey(a), star.ProblemKey(star.Parse("0,3|3,4|1,2|0,1/0,2=0,1,2")));
        Assert.NotEqual(star.ProblemKey(a), star.ProblemKey(star.Parse("1,2|0,1|0,3|3,4/0,4=0,3,4")));

        var planning = new MinimalPlanningTask(3);
        var p = planning.Parse("""{"input":"0,1/1,2/3,1/1,4-0,2","output":"0,1/1,2"}""");
        Assert.Equal(planning.ProblemKey(p), planning.ProblemKey(planning.Parse("""{"input":"1,4/3,1/1,2/0,1-0,2","output":"0,1/1,2"}""")));
        Assert.NotEqual(planning.ProblemKey(p), planning.ProblemKey(planning.Parse("""{"input":"0,1/1,2/3,1/1,4-3,4","output":"3,1/1,4"}""")));

        var addition = new AdditionTask(2);
        Assert.NotEqual(addition.ProblemKey(addition.Parse("12+34=046")), addition.ProblemKey(addition.Parse("34+12=046")));
    }

    [Theory]
    [InlineData("star", 720)]     // G(2,3,6): 6 sources x 5·4·3·2 arm labels in order / 1! arm orders
    [InlineData("star3", 60)]     // G(3,2,5): 5 x 4·3·2 / 2!
    [InlineData("planning", 2_160)] // chains of 3: 3 x 6!
    [InlineData("addition", 100)] // one digit
    [InlineData("sibling", 256)]  // seed strings of 2 symbols out of 16
    public void A_task_s_problem_count_is_how_many_distinct_problems_its_generator_draws(string which, int count)
    {
        ITask task = which switch
        {
            "star" => new PathStarTask(2, 3, 6),
            "star3" => new PathStarTask(3, 2, 5),
            "planning" => new MinimalPlanningTask(3),
            "addition" => new AdditionTask(1),
            _ => new SiblingDiscoveryTask(2, 3, 0, PrefixMode.Seed, seedLength: 2),
        };
        Assert.Equal(count, task.ProblemCount);
        var random = SeededRandom.For(0, "count");
        var seen = TokenDataset.Draw(task, 40 * count, random).Select(task.ProblemKey).ToHashSet();
        Assert.Equal(count, seen.Count); // 40 draws a problem: each is missed with probability e^-40
    }

    [Fact]
    public void A_test_set_too_large_to_hold_apart_is_an_error_naming_the_sizes()
    {
        var error = Assert.Throws<ConfigError>(() => Trainer.MakeData(new MinimalPlanningTask(3), new TrainingConfig(TrainSamples: 1_000, TestSamples: 500)));
        Assert.Equal("training.test_samples", error.Field);
        Assert.Matches(@"^training\.test_samples is 500: those examples ask \d{3} of the 2,160 problems minimal planning \(2 chains of 3\) has \(\d+%\), more than the 10%", error.Message);

        var cli = Cli.Run("train", "--task", "planning", "--chain-length", "3", "--test-samples", "500", "--out", Path.Combine(Path.GetTempPath(), $"foresight-{Guid.NewGuid():N}"));
        Assert.Equal(2, cli.ExitCode);
        Assert.StartsWith("error: --test-samples is 500: those examples ask", cli.Stderr.Trim());
        Assert.Single(cli.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void A_file_held_apart_that_covers_the_task_is_a_one_line_error_and_leaves_no_file()
    {
        using var temp = new TempDirectory();
        Assert.Equal(0, Cli.Run("data", "--task", "addition", "--digits", "1", "--count", "3000", "--out", temp["all.txt"]).ExitCode); // all 100 sums
        var apart = Cli.Run("data", "--task", "addition", "--digits", "1", "--count", "50", "--apart", temp["all.txt"], "--out", temp["rest.txt"]);
        Assert.Equal(2, apart.ExitCode);
        Assert.Equal("error: 1-digit addition: 10,501 draws asked a problem held apart, for 0 of 50 kept: too few of its 100 problems are left", apart.Stderr.Trim());
        Assert.Equal(["all.txt"], Directory.EnumerateFiles(temp.Path).Select(Path.GetFileName));
    }

    [Fact]
    public void A_config_from_before_the_field_draws_independent_streams_and_a_new_one_disjoint_sets()
    {
        var config = new RunConfig("ntp", new TaskSpec("star"), new Models.ModelSize(4, 128, 4), new TrainingConfig());
        var json = config.ToJson();
        Assert.Equal("disjoint", json["training"]!["test_set"]!.GetValue<string>());
        json["training"]!.AsObject().Remove("test_set");
        Assert.Equal(TestSetDraw.Independent, RunConfig.FromJson(json).Training.TestSet);
    }

    [Fact]
    public void Data_writes_a_file_apart_from_another_and_eval_counts_the_problems_a_run_trained_on()
    {
        using var temp = new TempDirectory();
        var test = Cli.Run("data", "--task", "planning", "--chain-length", "4", "--count", "2000", "--seed", "2", "--out", temp["test.jsonl"]);
        Assert.True(test.ExitCode == 0, test.Stderr);
        var train = Cli.Run("data", "--task", "planning", "--chain-length", "4", "--count", "50000", "--seed", "1", "--apart", temp["test.jsonl"], "--out", temp["train.jsonl"]);
        Assert.True(train.ExitCode == 0, train.Stderr);
        Assert.Contains("none of them one of the", train.Stdout);
        var task = new MinimalPlanningTask(4);
        var held = ProblemSet.Of(task, TaskFile.Read(task, temp["test.jsonl"]));
        Assert.Equal(0, held.CountIn(TaskFile.Read(task, temp["train.jsonl"])));

        Assert.Equal(0, Cli.Run(["train", "--method", "ntp", "--out", temp["run"], .. Cli.TinyRun]).ExitCode);
        var run = RunDirectory.Open(temp["run"]);
        var config = run.ReadConfig();
        var star = config.Task.Build();
        var summary = JsonNode.Parse(File.ReadAllText(run.SummaryFile))!;
        Assert.Equal(0, summary["test_problems_trained_on"]!.GetValue<int>());
        using var trained = Trainer.MakeTrainingSet(star, config.Training);
        TaskFile.Write(star, [.. trained.Examples().Take(20), .. TokenDataset.Draw(star, 30, SeededRandom.For(9, "other"))], temp["mixed.txt"]);
        var eval = Cli.Run("eval", "--run", temp["run"], "--data", temp["mixed.txt"]);
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        Assert.Contains("20 of the 50 examples scored ask a problem the run trained on (40.0%)", eval.Stdout);
        Assert.Equal(20, JsonNode.Parse(File.ReadAllText(Path.Combine(temp["run"], "eval-mixed.json")))!["trained_on"]!.GetValue<int>());
        Assert.Contains("0 of the 64 examples scored ask a problem the run trained on", Cli.Run("eval", "--run", temp["run"]).Stdout);
    }
}
