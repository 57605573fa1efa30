using System.Text.Json.Nodes;
using Foresight.Tasks;

namespace Foresight.Tests;

/// <summary>Tasks found by their attribute, their declared options, and the TaskSpec that config.json's "task" object is.</summary>
public sealed class TaskRegistryTests
{
    [Fact]
    public void Every_task_is_registered_round_trips_through_json_and_has_a_flag_for_each_option()
    {
        Assert.Subset(TaskRegistry.Names.ToHashSet(), new HashSet<string> { "addition", "circle", "line", "planning", "sibling", "star", "triangle" });
        Assert.Equal("star", TaskRegistry.Default);
        var help = Cli.Run("train", "--help").Stdout;
        foreach (string name in TaskRegistry.Names)
        {
            var spec = new TaskSpec(name);
            var again = TaskSpec.FromJson(spec.ToJson());
            Assert.Equal(spec, again);
            Assert.Equal(name, spec.Build().Name);
            Assert.Equal(spec, spec.Build().Spec);
            Assert.Equal(["name", .. TaskRegistry.Options(name).Select(o => o.Name)], spec.ToJson().Select(p => p.Key));
            foreach (var option in TaskRegistry.Options(name)) Assert.Contains(option.Flag, help);
        }
        Assert.Contains(TaskRegistry.Names.First(), help);
    }

    [Fact]
    public void Config_json_holds_a_task_s_own_options_in_the_order_it_always_had()
    {
        Assert.Equal("""{"name":"star","degree":2,"path_length":5,"nodes":50}""", new TaskSpec("star").ToJson().ToJsonString());
        Assert.Equal("""{"name":"addition","digits":3,"answer_order":"msb-first"}""", new TaskSpec("addition").ToJson().ToJsonString());
        Assert.Equal("""{"name":"sibling","parents":5,"children":100,"graph_seed":0,"layout":"shared","prefix":"seed","seed_length":8,"temperature":0,"seed_symbols":16}""",
            new TaskSpec("sibling").ToJson().ToJsonString()); // the temperature written as the prefix resolves it
        Assert.Equal("""{"name":"line","labels":10,"size":6,"directed":false,"prefix":"null","seed_length":8,"temperature":1,"seed_symbols":16}""",
            TaskSpec.FromJson(new JsonObject { ["name"] = "line", ["prefix"] = "null" }).ToJson().ToJsonString());
    }

    [Fact]
    public void A_task_is_labelled_by_its_description_and_only_the_options_it_does_not_already_show()
    {
        foreach (string name in TaskRegistry.Names) Assert.Equal(new TaskSpec(name).Build().Description, new TaskSpec(name).Label);
        var hot = new TaskSpec("sibling", new SiblingOptions { Prefix = PrefixMode.Null }); // temperature 1: what null resolves to
        Assert.Equal(hot.Build().Description, hot.Label);
        Assert.EndsWith("[T = 0.5]", new TaskSpec("sibling", new SiblingOptions { Prefix = PrefixMode.Null, Temperature = 0.5 }).Label);
        Assert.EndsWith("[0.3 held out, graph seed 4]", new TaskSpec("triangle", new TriangleOptions { HeldOut = 0.3, GraphSeed = 4 }).Label);
    }

    [Fact]
    public void A_bad_task_object_is_an_error_naming_its_field()
    {
        Assert.Equal($"task.name must be one of {string.Join(", ", TaskRegistry.Names)}, got 'cube'",
            Assert.Throws<ConfigError>(() => TaskSpec.FromJson(new JsonObject { ["name"] = "cube" })).Message);
        Assert.StartsWith("task.name is missing", Assert.Throws<ConfigError>(() => TaskSpec.FromJson(new JsonObject { ["degree"] = 2 })).Message);
        Assert.Equal("task.degre is not an option of star (known: degree, path_length, nodes)",
            Assert.Throws<ConfigError>(() => TaskSpec.FromJson(new JsonObject { ["name"] = "star", ["degre"] = 2 })).Message);
        Assert.StartsWith("task.digits has a value of the wrong type: must be a whole number",
            Assert.Throws<ConfigError>(() => TaskSpec.FromJson(new JsonObject { ["name"] = "addition", ["digits"] = "three" })).Message);
        Assert.Equal("task.digits must be in 1..20, got 0", Assert.Throws<ConfigError>(() => new TaskSpec("addition", new AdditionOptions { Digits = 0 })).Message);
        Assert.Throws<ArgumentException>(() => new TaskSpec("star", new AdditionOptions()));
    }
}
