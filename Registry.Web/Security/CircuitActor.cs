using Microsoft.AspNetCore.Components.Authorization;
using Registry.Core.Access;

namespace Registry.Web.Security;

/// <summary>The actor of a Blazor circuit: the person signed in to the page, as the services see them.</summary>
public sealed class CircuitActor(AuthenticationStateProvider authentication)
{
    public async Task<Actor> GetAsync()
    {
        var state = await authentication.GetAuthenticationStateAsync();
        return RegistryClaims.ToActor(state.User, null);
    }
}
