using Registry.Core.Catalog;

namespace Registry.Tests.Core;

public class ModelNamesTests
{
    private readonly ModelNameValidator _validator = new();

    [Theory]
    [InlineData("fraud-detector")]
    [InlineData("a")]
    [InlineData("7")]
    [InlineData("ResNet50_v1.5")]
    [InlineData("x.y-z_w")]
    public void Valid_names_are_accepted(string name) => Assert.Null(_validator.Check(name));

    [Fact]
    public void A_name_of_100_characters_is_accepted_and_101_is_refused()
    {
        Assert.Null(_validator.Check(new string('a', 100)));
        var error = _validator.Check(new string('a', 101));
        Assert.NotNull(error);
        Assert.Equal("A model name has at most 100 characters; this one has 101.", error.Detail);
    }

    [Theory]
    [InlineData("", "A model name is required.")]
    [InlineData("-leading-dash", "A model name must start with a letter or a digit.")]
    [InlineData(".hidden", "A model name must start with a letter or a digit.")]
    [InlineData("_under", "A model name must start with a letter or a digit.")]
    [InlineData("a..b", "A model name must not contain '..'.")]
    [InlineData("has space", "A model name may contain only letters, digits, '-', '_' and '.'; found U+0020 at position 4.")]
    [InlineData("slash/inside", "A model name may contain only letters, digits, '-', '_' and '.'; found '/' at position 6.")]
    [InlineData("café", "A model name may contain only letters, digits, '-', '_' and '.'; found 'é' at position 4.")]
    public void Invalid_names_are_refused_with_the_rule_they_break(string name, string message)
    {
        var error = _validator.Check(name);
        Assert.NotNull(error);
        Assert.Contains(message, error.Errors!["name"]);
    }
}
