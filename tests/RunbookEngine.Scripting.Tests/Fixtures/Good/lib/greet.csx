static string Greeting(string who) => $"hello, {who}";
