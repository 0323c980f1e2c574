using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Registry.Core;
using Registry.Tests.Support;
using Registry.Web.Api;

namespace Registry.Tests.Web.Api;

/// <summary>The one set of REST paths in Web stays what the endpoints are mapped at.</summary>
public class ApiLinksTests : AppTests
{
    private string? Named(string endpoint, object? values = null) =>
        App.Services.GetRequiredService<LinkGenerator>().GetPathByName(endpoint, values)?.TrimEnd('/');

    [Fact]
    public void Each_path_is_what_the_link_generator_makes_of_the_named_endpoint()
    {
        const string m = "fraud-detector";
        Assert.Equal(Named("ListModels"), ApiLinks.Models());
        Assert.Equal(Named("GetModel", new { name = m }), ApiLinks.Model(m));
        Assert.Equal(Named("ListVersions", new { name = m }), ApiLinks.Versions(m));
        Assert.Equal(Named("GetVersion", new { name = m, version = 3 }), ApiLinks.Version(m, 3));
        Assert.Equal(Named("DownloadArtifact", new { name = m, version = 3 }), ApiLinks.Artifact(m, 3));
        Assert.Equal(Named("GetValidation", new { name = m, version = 3 }), ApiLinks.Validation(m, 3));
        Assert.Equal(Named("GetMetrics", new { name = m, version = 3 }), ApiLinks.Metrics(m, 3));
        Assert.Equal(Named("GetLineage", new { name = m, version = 3 }), ApiLinks.Lineage(m, 3));
        Assert.Equal(Named("GetProductionVersion", new { name = m }), ApiLinks.Production(m));
        Assert.Equal(Named("ListAliases", new { name = m }), ApiLinks.Aliases(m));
        Assert.Equal(Named("GetModelHistory", new { name = m }), ApiLinks.History(m));
        Assert.Equal(Named("ListPromotions"), ApiLinks.Promotions());
        Assert.Equal(Named("GetPromotion", new { id = 7L }), ApiLinks.Promotion(7));
        Assert.Equal(Named("CancelPromotion", new { id = 7L }), ApiLinks.CancelPromotion(7));
        Assert.Equal(Named("ListKeys"), ApiLinks.Keys());
        Assert.Equal(Named("RevokeKey", new { id = 7L }), ApiLinks.Key(7));
        Assert.Equal(Named("UpdateUser", new { name = "alice" }), ApiLinks.User("alice"));
        Assert.Equal(Named("CompareVersionsCsv") + "?versions=a%3A1%2Cb%3A2&baseline=a%3A1", ApiLinks.CompareCsv(["a:1", "b:2"], "a:1"));
    }

    [Fact]
    public void Every_relation_Core_can_name_has_a_rest_link()
    {
        foreach (var relation in Enum.GetValues<LinkRelation>())
        {
            var (name, method, path) = ApiLinks.For(new RegistryLink(relation, Model: "m", Request: 1));
            Assert.False(string.IsNullOrEmpty(name));
            Assert.Contains(method, new[] { "GET", "POST" });
            Assert.StartsWith(ApiLinks.Root + "/", path);
        }
        Assert.Equal(("aliases", "GET", "/api/v1/models/m%20x/aliases"), ApiLinks.For(RegistryLink.Aliases("m x")));
        Assert.Equal(("cancel", "POST", "/api/v1/promotions/4/cancel"), ApiLinks.For(RegistryLink.CancelPromotion(4)));
        Assert.Throws<ArgumentException>(() => ApiLinks.For(new RegistryLink(LinkRelation.Versions)));
    }
}
