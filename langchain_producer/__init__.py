"""LangChain tools and a typed client for the AceDataCloud Producer music API."""
