using Registry.Core.Catalog;

namespace Registry.Tests.Web.Cards;

public class TagLinesTests
{
    [Fact]
    public void Lines_round_trip_and_values_may_hold_equals_signs()
    {
        var parsed = TagLines.Parse("team = risk\r\n\nurl=https://x.example/?a=b\npii\n");
        Assert.True(parsed.IsSuccess);
        Assert.Equal(new Dictionary<string, string> { ["team"] = "risk", ["url"] = "https://x.example/?a=b", ["pii"] = "" }, parsed.Value);
        Assert.Equal("pii\nteam=risk\nurl=https://x.example/?a=b", TagLines.Format(parsed.Value));
        Assert.Empty(TagLines.Parse("  \n").Value);
    }

    [Fact]
    public void A_line_without_a_key_or_a_repeated_key_is_refused_by_line()
    {
        Assert.Contains("Line 2 has no key", TagLines.Parse("a=1\n=2").Error!.Detail);
        var twice = TagLines.Parse("a=1\nb\na=3").Error!;
        Assert.Contains("given twice (line 3)", twice.Detail);
        Assert.True(twice.Errors!.ContainsKey("tags.a"));
    }
}
