{ family: 'web', containerDefinitions: [] }
